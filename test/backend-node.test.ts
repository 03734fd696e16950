/**
 * The native backend (@tensorflow/tfjs-node built by `npm run native`), when this
 * checkout has it: selected by 'node' and by 'auto', registered with the
 * project's own tfjs-core, trains, and reports the TensorFlow version. When it is
 * not built, the node tests are skipped (the output says so) and 'node' must fail
 * with a message that says why and what to do.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { NOT_BUILT_NOTE, nativeStatus } from './fixtures/native-status.js';

const native = nativeStatus();

type SelectModule = typeof import('../src/backend/select.js');

async function freshSelect(): Promise<SelectModule> {
  vi.resetModules();
  return import('../src/backend/select.js');
}

let tensorflowVersion: string | undefined;

beforeAll(async () => {
  if (!native.built) {
    console.log(`${NOT_BUILT_NOTE} (${native.why})`);
    return;
  }
  // A built but broken native backend fails here, and so every test below.
  const { selectBackend } = await freshSelect();
  tensorflowVersion = (await selectBackend('node')).tensorflow;
  console.log(`native backend: loaded (TensorFlow ${tensorflowVersion})`);
});

describe.skipIf(!native.built)('native backend (built)', () => {
  it("'node' activates the 'tensorflow' backend of the project's tfjs and records versions", async () => {
    const { selectBackend } = await freshSelect();
    const info = await selectBackend('node');
    expect(info).toEqual({ name: 'node', tfjs: '4.22.0', tensorflow: tensorflowVersion });
    expect(info.tensorflow).toMatch(/^2\.\d+\.\d+/);
    expect(tf.getBackend()).toBe('tensorflow');
    const p = tf.tidy(() => Array.from(tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5], [6]])).dataSync()));
    expect(p).toEqual([17, 39]);
    // TensorFlow's kernels are registered for our ops, in place of the reference kernels (src/ops).
    for (const name of ['GlanceSoftmaxXent', 'GlanceReluGrad', 'GlanceLstm', 'GlanceLstmGrad']) {
      expect(tf.getKernel(name, 'cpu'), name).toBeDefined();
      expect(tf.getKernel(name, 'tensorflow')!.kernelFunc, name).not.toBe(tf.getKernel(name, 'cpu')!.kernelFunc);
    }
  });

  it('one tfjs-core: tfjs-node resolves the same @tensorflow/tfjs-core as the project', () => {
    const require = createRequire(import.meta.url);
    const fromProject = fs.realpathSync(require.resolve('@tensorflow/tfjs-core'));
    const fromNode = fs.realpathSync(
      createRequire(fs.realpathSync(require.resolve('@tensorflow/tfjs-node'))).resolve('@tensorflow/tfjs-core'));
    expect(fromNode).toBe(fromProject);
    expect(tf.engine().registryFactory['tensorflow']).toBeDefined();
  });

  it('sets one TensorFlow thread per instance before loading (unless already set)', () => {
    expect(process.env.TF_NUM_INTRAOP_THREADS).toBeDefined();
    expect(process.env.TF_NUM_INTEROP_THREADS).toBeDefined();
  });

  it('trains (Adam) and has gradients that wasm lacks (tf.gather)', async () => {
    const { selectBackend } = await freshSelect();
    await selectBackend('node');
    const table = tf.variable(tf.tensor2d([[1, 2], [3, 4], [5, 6]]));
    const idx = tf.tensor1d([2, 0, 2], 'int32');
    const g = tf.grad((t: tf.Tensor) => tf.gather(t, idx).sum())(table);
    expect(Array.from(g.dataSync())).toEqual([1, 1, 0, 0, 2, 2]);
    const opt = tf.train.adam(0.1);
    const loss = () => tf.gather(table, idx).square().mean() as tf.Scalar;
    const first = loss().dataSync()[0]!;
    for (let i = 0; i < 20; i++) opt.minimize(loss, false, [table]);
    expect(loss().dataSync()[0]!).toBeLessThan(first / 2);
  });

  it("'auto' picks node, with no hint", async () => {
    const { selectBackend, backendHint } = await freshSelect();
    expect((await selectBackend('auto')).name).toBe('node');
    expect(backendHint()).toBeUndefined();
    expect(await selectBackend('node')).toMatchObject({ name: 'node' });
    await expect(selectBackend('wasm')).rejects.toThrow(/already 'node' \(from auto\)/);
  });

  it('probeBackend reports node as loading with its versions', async () => {
    vi.resetModules();
    const { probeBackend } = await import('../src/backend/probe.js');
    const p = await probeBackend('node');
    expect(p).toMatchObject({ name: 'node', loads: true, tfjsNode: '4.22.0',
      info: { name: 'node', tfjs: '4.22.0', tensorflow: tensorflowVersion } });
  });
});

describe.runIf(!native.built)('native backend (not built)', () => {
  it("'node' fails saying why and what to do; 'auto' falls back to wasm with the hint", async () => {
    const { selectBackend, backendHint } = await freshSelect();
    await expect(selectBackend('node')).rejects.toThrow(/node backend does not load: .*npm run native.*--backend wasm/s);
    expect((await selectBackend('auto')).name).toBe('wasm');
    expect(backendHint()).toMatch(/npm run native/);
  });
});
