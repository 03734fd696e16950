/**
 * Which backends load on this machine, and why not: for `glance doctor`.
 *
 * Probing loads the backend into this thread (a backend package cannot be
 * unloaded), then switches back to the backend that was active before, so a
 * probe does not change the backend a thread selected. Nothing here prints.
 */
import * as tf from '@tensorflow/tfjs';

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

/** Probes node, wasm and cpu in turn. */
export async function availableBackends(): Promise<BackendProbe[]> {
  const out: BackendProbe[] = [];
  for (const name of ALL) out.push(await probeBackend(name));
  return out;
}
