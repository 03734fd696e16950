/**
 * Backend selection for the backends that install anywhere (cpu, wasm): it
 * activates the backend in the project's tfjs, records versions, is chosen once
 * per thread, and 'node' that cannot load says why and what to do.
 * Each test loads a fresh copy of src/backend/ (vi.resetModules) so that the
 * once-per-thread state starts empty; tfjs itself is shared.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it, vi } from 'vitest';

type SelectModule = typeof import('../src/backend/select.js');
type ProbeModule = typeof import('../src/backend/probe.js');

async function freshSelect(): Promise<SelectModule> {
  vi.resetModules();
  return import('../src/backend/select.js');
}

/** A product whose value every backend must get right. */
function product(): number[] {
  return tf.tidy(() => Array.from(tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5], [6]])).dataSync()));
}

afterEach(() => {
  vi.doUnmock('@tensorflow/tfjs-node');
});

describe('selectBackend', () => {
  it('cpu: activates the pure-JS backend and records the tfjs version', async () => {
    const { selectBackend, selectedBackend, backendHint } = await freshSelect();
    const info = await selectBackend('cpu');
    expect(info).toEqual({ name: 'cpu', tfjs: tf.version.tfjs });
    expect(tf.version.tfjs).toBe('4.22.0');
    expect(tf.getBackend()).toBe('cpu');
    expect(product()).toEqual([17, 39]);
    expect(selectedBackend()).toEqual(info);
    expect(backendHint()).toBeUndefined();
  });

  it('wasm: activates the WASM backend (its .wasm files found by the package itself)', async () => {
    const { selectBackend } = await freshSelect();
    const info = await selectBackend('wasm');
    expect(info).toEqual({ name: 'wasm', tfjs: '4.22.0' });
    expect(tf.getBackend()).toBe('wasm');
    expect(product()).toEqual([17, 39]);
    // Training works (gradients + optimizer), not just the forward pass.
    const w = tf.variable(tf.zeros([2, 1]));
    const opt = tf.train.adam(0.1);
    const x = tf.tensor2d([[1, 0], [0, 1]]);
    const y = tf.tensor2d([[1], [-1]]);
    const loss = () => tf.losses.meanSquaredError(y, x.matMul(w)) as tf.Scalar;
    const first = loss().dataSync()[0]!;
    for (let i = 0; i < 20; i++) opt.minimize(loss);
    expect(loss().dataSync()[0]!).toBeLessThan(first / 4);
    // Our SIMD kernels are registered for wasm, in place of the reference kernels (src/ops).
    for (const name of ['GlanceLstm', 'GlanceLstmGrad', 'GlanceAdamUpdate']) {
      expect(tf.getKernel(name, 'cpu'), name).toBeDefined();
      expect(tf.getKernel(name, 'wasm')!.kernelFunc, name).not.toBe(tf.getKernel(name, 'cpu')!.kernelFunc);
    }
  });

  it('is chosen once per thread: the same choice returns the cached info, another throws', async () => {
    const { selectBackend } = await freshSelect();
    const [a, b] = await Promise.all([selectBackend('wasm'), selectBackend('wasm')]);
    expect(a).toEqual(b);
    expect(await selectBackend('wasm')).toEqual(a);
    await expect(selectBackend('cpu')).rejects.toThrow(/already 'wasm'.*cannot switch to 'cpu'/);
    await expect(selectBackend('auto')).rejects.toThrow(/already 'wasm'/);
    expect(tf.getBackend()).toBe('wasm');
  });

  it('a concurrent different choice while one is loading throws too', async () => {
    const { selectBackend } = await freshSelect();
    const first = selectBackend('cpu');
    await expect(selectBackend('wasm')).rejects.toThrow(/already 'cpu' \(loading\)/);
    expect((await first).name).toBe('cpu');
  });

  it("'node' that cannot load throws why and what to do, and leaves the thread free to choose", async () => {
    vi.doMock('@tensorflow/tfjs-node', () => {
      throw new Error('simulated: tfjs_binding.node not built');
    });
    const { selectBackend } = await freshSelect();
    const err = await selectBackend('node').then(() => undefined, (e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect(err!.message).toMatch(/node backend does not load/);
    expect(err!.message).toMatch(/simulated: tfjs_binding\.node not built/);
    expect(err!.message).toMatch(/npm run native/);
    expect(err!.message).toMatch(/--backend wasm/);
    expect((await selectBackend('cpu')).name).toBe('cpu');
  });

  it("'node' whose package loads but registers with another tfjs-core is refused", async () => {
    // What a tfjs-node with its own copy of @tensorflow/tfjs looks like from here: the
    // import succeeds, but what it re-exports is not the project's tfjs.
    vi.doMock('@tensorflow/tfjs-node', () => ({ version: { 'tfjs-node': '4.22.0' }, Tensor: class Tensor {} }));
    const { selectBackend } = await freshSelect();
    await expect(selectBackend('node')).rejects.toThrow(/another copy of @tensorflow\/tfjs\(-core\).*npm run native/);
  });

  it("'auto' falls back to wasm when node cannot load, with a hint for the CLI", async () => {
    vi.doMock('@tensorflow/tfjs-node', () => {
      throw new Error('simulated: no native build');
    });
    const { selectBackend, backendHint, nativeFallbackReason } = await freshSelect();
    const info = await selectBackend('auto');
    expect(info.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(backendHint()).toMatch(/npm run native builds it/);
    expect(nativeFallbackReason()).toMatch(/simulated: no native build/);
    // 'auto' resolved to wasm: asking for wasm by name is the same choice.
    expect(await selectBackend('wasm')).toEqual(info);
  });
});

describe('probeBackend / availableBackends (glance doctor)', () => {
  it('reports wasm and cpu as loading, and restores the backend that was active', async () => {
    const { selectBackend } = await freshSelect();
    const probe: ProbeModule = await import('../src/backend/probe.js');
    await selectBackend('cpu');
    const wasm = await probe.probeBackend('wasm');
    expect(wasm).toMatchObject({ name: 'wasm', loads: true, info: { name: 'wasm', tfjs: '4.22.0' } });
    expect(tf.getBackend()).toBe('cpu');
    const cpu = await probe.probeBackend('cpu');
    expect(cpu).toMatchObject({ name: 'cpu', loads: true });
  });

  it('reports why node does not load, and what to do', async () => {
    vi.doMock('@tensorflow/tfjs-node', () => {
      throw new Error('simulated: libtensorflow.so.2: cannot open shared object file');
    });
    vi.resetModules();
    const probe: ProbeModule = await import('../src/backend/probe.js');
    const all = await probe.availableBackends();
    expect(all.map((p) => p.name)).toEqual(['node', 'wasm', 'cpu']);
    expect(all[0]).toMatchObject({ loads: false, reason: expect.stringMatching(/cannot open shared object/) });
    expect(all[0]!.fix).toMatch(/npm run native/);
    expect(all[1]!.loads).toBe(true);
    expect(all[2]!.loads).toBe(true);
  });
});

describe('configureNativeThreads', () => {
  it('sets one intra-op and one inter-op TensorFlow thread unless already set', async () => {
    const { configureNativeThreads } = await import('../src/backend/native-env.js');
    const env: NodeJS.ProcessEnv = { TF_NUM_INTEROP_THREADS: '4' };
    expect(configureNativeThreads(env)).toEqual({ TF_NUM_INTRAOP_THREADS: '1', TF_CPP_MIN_LOG_LEVEL: '2' });
    expect(env).toEqual({ TF_NUM_INTRAOP_THREADS: '1', TF_NUM_INTEROP_THREADS: '4', TF_CPP_MIN_LOG_LEVEL: '2' });
    expect(configureNativeThreads(env)).toEqual({});
  });
});
