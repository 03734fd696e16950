/**
 * The wasm Slice / SplitV / Unpack kernels of src/backend/wasm-slice.ts give the
 * cpu backend's values for every rank used here, partial and whole dims, -1 sizes,
 * int32, and leak nothing; gradients through them still work.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { installWasmSliceFix } from '../src/backend/wasm-slice.js';
import { Rng } from '../src/models/rng.js';

const rng = new Rng(17);
const data = (shape: number[]) => Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.uniform(-1, 1));

/** f's outputs on wasm (with the fix) and on cpu, as plain arrays with shapes. */
async function both(f: () => tf.Tensor | tf.Tensor[]) {
  const run = async (backend: string) => {
    await tf.setBackend(backend);
    return tf.tidy(() => [f()].flat().map((t) => ({ shape: t.shape, values: Array.from(t.dataSync()) })));
  };
  return { wasm: await run('wasm'), cpu: await run('cpu') };
}

describe('wasm slice fix', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
    installWasmSliceFix();
    expect(tf.getKernel('Slice', 'wasm')).toBeDefined();
  });

  const slices: Array<[number[], number[], number[]]> = [
    [[10], [3], [4]],
    [[10], [0], [-1]],
    [[5, 7], [1, 2], [3, 4]],
    [[5, 7], [2, 0], [2, 7]],
    [[5, 7], [0, 0], [5, 7]],
    [[4, 6, 8], [1, 2, 3], [2, 3, 4]],
    [[4, 6, 8], [0, 3, 0], [4, 1, 8]],
    [[4, 6, 8], [2, 0, 0], [1, 6, 8]],
    [[3, 4, 6, 8], [1, 0, 2, 0], [2, 4, 3, 8]],
    [[3, 4, 6, 8], [0, 1, 1, 2], [-1, 2, 4, 5]],
    [[2, 3, 2, 3, 4], [1, 1, 0, 1, 1], [1, 2, 2, 2, 3]],
  ];
  for (const [shape, begin, size] of slices) {
    it(`slice of [${shape}] at [${begin}] size [${size}] equals cpu`, async () => {
      const x = data(shape);
      const r = await both(() => tf.slice(tf.tensor(x, shape), begin, size));
      expect(r.wasm).toEqual(r.cpu);
    });
  }

  it('split (equal and sized, every axis), unstack (every axis) and int32 equal cpu', async () => {
    const shape = [4, 6, 8];
    const x = data(shape);
    for (let axis = 0; axis < 3; axis++) {
      const r = await both(() => [...tf.split(tf.tensor(x, shape), 2, axis), ...tf.unstack(tf.tensor(x, shape), axis)]);
      expect(r.wasm).toEqual(r.cpu);
    }
    const sized = await both(() => tf.split(tf.tensor(x, shape), [1, 5, 2], 2));
    expect(sized.wasm).toEqual(sized.cpu);
    const ints = await both(() => tf.split(tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3], 'int32'), [2, 1], 1));
    expect(ints.wasm).toEqual(ints.cpu);
  });

  it('gradients through slice, split and unstack equal cpu; nothing leaks', async () => {
    const shape = [3, 5, 4];
    const x = data(shape);
    const w = data([3, 5, 4]);
    const loss = (t: tf.Tensor) => {
      const [a, b] = tf.split(t, [2, 3], 1);
      const parts = tf.unstack(tf.slice(b, [0, 1, 1], [-1, 2, 3]), 0);
      return tf.add(tf.sum(tf.mul(a, tf.slice(tf.tensor(w, shape), [0, 0, 0], [3, 2, 4]))), tf.sum(tf.stack(parts.map((p) => tf.square(p)))));
    };
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    tf.tidy(() => tf.grad(loss)(tf.tensor(x, shape)).dataSync());
    expect(tf.memory().numTensors).toBe(before);
    const r = await both(() => tf.grad(loss)(tf.tensor(x, shape)));
    expect(r.wasm.length).toBe(1);
    r.wasm[0].values.forEach((v, i) => expect(v).toBeCloseTo(r.cpu[0].values[i], 6));
  });
});
