/**
 * `npm run native` (scripts/native.mjs) on its failure paths: a bad option or a
 * missing --wheel fails at once, exits non-zero with a message that names the
 * problem, changes nothing in node_modules, and the wasm backend still loads.
 * (The full build is slow and is run by hand and in CI: npm ci && npm run native.)
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SCRIPT = path.join(ROOT, 'scripts', 'native.mjs');
const TFJS_NODE = path.join(ROOT, 'node_modules', '@tensorflow', 'tfjs-node');

function runNative(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [SCRIPT, ...args], {
    cwd: ROOT, encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env },
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** What node_modules/@tensorflow/tfjs-node is: absent, or its entries and where links point. */
function snapshot(): string {
  if (!fs.existsSync(TFJS_NODE)) return 'absent';
  return fs.readdirSync(TFJS_NODE).sort().map((e) => {
    const p = path.join(TFJS_NODE, e);
    const st = fs.lstatSync(p);
    return st.isSymbolicLink() ? `${e} -> ${fs.readlinkSync(p)}` : `${e} ${st.mtimeMs}`;
  }).join('\n');
}

describe('npm run native: failure paths', () => {
  it('--wheel with a path that does not exist exits non-zero naming the path; wasm still loads', async () => {
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'glance-native-test-'));
    try {
      const before = snapshot();
      const r = runNative(['--wheel', '/nonexistent/x.whl'], { GLANCE_NATIVE_CACHE: cache });
      expect(r.status).not.toBe(0);
      expect(r.status).not.toBeNull();
      expect(r.out).toMatch(/FAILED: --wheel \/nonexistent\/x\.whl: no such file/);
      expect(r.out).toMatch(/wasm backend still works/);
      expect(snapshot()).toBe(before);
      expect(fs.readdirSync(cache)).toEqual([]); // failed before touching the cache

      const { selectBackend } = await import('../src/backend/select.js');
      expect((await selectBackend('wasm')).name).toBe('wasm');
      expect(tf.getBackend()).toBe('wasm');
      expect(tf.add(tf.scalar(2), tf.scalar(3)).dataSync()[0]).toBe(5);
    } finally {
      fs.rmSync(cache, { recursive: true, force: true });
    }
  });

  it('an unknown option exits non-zero and points at --help', () => {
    const r = runNative(['--no-such-option']);
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/unknown option --no-such-option \(see --help\)/);
  });

  it('--help documents the cache location and the options, and exits 0', () => {
    const r = runNative(['--help']);
    expect(r.status).toBe(0);
    for (const s of ['--wheel FILE', '--libtensorflow FILE', '--cache DIR', 'GLANCE_NATIVE_CACHE',
      'glance-bench/native']) expect(r.out).toContain(s);
  });
});
