/**
 * `npm run native` (scripts/native/build.mjs) on its failure paths: a bad option or
 * a missing --wheel fails at once, exits non-zero with a message that names the
 * problem, changes nothing in node_modules, and the wasm backend still loads.
 * And scripts/native/extract-wheel.py on a small stand-in wheel.
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
const SCRIPT = path.join(ROOT, 'scripts', 'native', 'build.mjs');
const EXTRACT_WHEEL = path.join(ROOT, 'scripts', 'native', 'extract-wheel.py');
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
    for (const s of ['--wheel FILE', '--cache DIR', '--force', 'GLANCE_NATIVE_CACHE',
      'glance-bench/native']) expect(r.out).toContain(s);
  });
});

const python3 = spawnSync('python3', ['--version']).status === 0;

describe.skipIf(!python3)('scripts/native/extract-wheel.py', () => {
  /** A zip with the given members (name -> text), written by python3's zipfile. */
  function zip(file: string, members: Record<string, string>) {
    const py = 'import json, sys, zipfile\n' +
      'with zipfile.ZipFile(sys.argv[1], "w") as z:\n' +
      '    for n, t in json.loads(sys.argv[2]).items(): z.writestr(n, t)\n';
    const r = spawnSync('python3', ['-c', py, file, JSON.stringify(members)], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  }
  const extract = (wheel: string, out: string) =>
    spawnSync('python3', [EXTRACT_WHEEL, wheel, out], { encoding: 'utf8' });

  it('takes the two libraries and only the header directories the addon needs', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'glance-extract-wheel-'));
    try {
      const wheel = path.join(dir, 'tensorflow_cpu-2.21.0-cp311-cp311-manylinux_2_27_x86_64.whl');
      zip(wheel, {
        'tensorflow/libtensorflow_cc.so.2': 'cc',
        'tensorflow/libtensorflow_framework.so.2': 'fw',
        'tensorflow/include/tensorflow/c/c_api.h': 'c api',
        'tensorflow/include/tsl/platform/ctstring.h': 'tsl',
        'tensorflow/include/tensorflow/core/framework/op.h': 'not needed',
        'tensorflow/python/ops/x.py': 'not needed',
      });
      const out = path.join(dir, 'out');
      const r = extract(wheel, out);
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({
        headers: 2, headerBytes: 8, libs: { 'libtensorflow.so.2': 2, 'libtensorflow_framework.so.2': 2 },
      });
      expect(fs.readFileSync(path.join(out, 'lib', 'libtensorflow.so.2'), 'utf8')).toBe('cc');
      expect(fs.readFileSync(path.join(out, 'include', 'tensorflow', 'c', 'c_api.h'), 'utf8')).toBe('c api');
      expect(fs.existsSync(path.join(out, 'include', 'tsl', 'platform', 'ctstring.h'))).toBe(true);
      expect(fs.existsSync(path.join(out, 'include', 'tensorflow', 'core', 'framework'))).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a zip without the libraries, and a file that is not a zip, with one line each', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'glance-extract-wheel-'));
    try {
      const noLibs = path.join(dir, 'other.whl');
      zip(noLibs, { 'numpy/__init__.py': '' });
      const a = extract(noLibs, path.join(dir, 'a'));
      expect(a.status).toBe(1);
      expect(a.stderr.trim()).toBe(
        'the wheel has no tensorflow/libtensorflow_cc.so.2: not a TensorFlow 2.x CPU wheel for Linux?');
      const notZip = path.join(dir, 'text.whl');
      fs.writeFileSync(notZip, 'not a zip');
      const b = extract(notZip, path.join(dir, 'b'));
      expect(b.status).toBe(1);
      expect(b.stderr).toMatch(/^not a readable wheel \(zip\): /);
      expect(fs.existsSync(path.join(dir, 'a'))).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
