/**
 * Which backends load on this machine, and why not: for `glance doctor`.
 *
 * Probing loads the backend into this thread (a backend package cannot be
 * unloaded), then switches back to the backend that was active before, so a
 * probe does not change the backend a thread selected. Nothing here prints.
 */
import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

import type { BackendInfo, BackendName } from '../experiments/types.js';
import { activeTfjsBackend, BackendLoadError, loadBackend } from './load.js';

export interface BackendProbe {
  name: BackendName;
  loads: boolean;
  /** Versions, when it loads. */
  info?: BackendInfo;
  /** For node: the @tensorflow/tfjs-node package version. */
  tfjsNode?: string;
  /** Why it does not load. */
  reason?: string;
  /** What to do about it. */
  fix?: string;
}

const ALL: readonly BackendName[] = ['node', 'wasm', 'cpu'];

export async function probeBackend(name: BackendName): Promise<BackendProbe> {
  const before = activeTfjsBackend();
  try {
    const loaded = await loadBackend(name);
    return { name, loads: true, ...loaded };
  } catch (e) {
    if (e instanceof BackendLoadError) return { name, loads: false, reason: e.reason, fix: e.fix };
    return { name, loads: false, reason: e instanceof Error ? e.message : String(e) };
  } finally {
    if (before !== undefined && activeTfjsBackend() !== before) await tf.setBackend(before);
  }
}

/**
 * The source patches of a native addon built by `npm run native` (the files in
 * scripts/native/patches/, listed in the marker it writes), or undefined for a
 * tfjs-node that npm installed (or none). 'attr-name-set-mutex' is what makes the
 * addon safe in several worker threads.
 */
export function nativeAddonPatches(): string[] | undefined {
  try {
    const require = createRequire(import.meta.url);
    const dir = path.dirname(require.resolve('@tensorflow/tfjs-node/package.json'));
    const marker = JSON.parse(fs.readFileSync(path.join(dir, '.glance-native.json'), 'utf8')) as { patches?: string[] };
    return marker.patches ?? [];
  } catch {
    return undefined;
  }
}

/** Probes node, wasm and cpu in turn. */
export async function availableBackends(): Promise<BackendProbe[]> {
  const out: BackendProbe[] = [];
  for (const name of ALL) out.push(await probeBackend(name));
  return out;
}
