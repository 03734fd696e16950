/**
 * The WASM backend's Sum over leading axes through our row-sum kernel
 * (src/backend/wasm-sum.ts): bit for bit float32 additions in tfjs's wasm order
 * (each output summed from 0 over the reduced elements in row-major order), with and
 * without keepDims, over SIMD blocks and a tail; other sums (inner axes, all axes,
 * int32) still go to tfjs's kernel, which sums in the same order; no tensors left.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installWasmSumFix } from '../src/backend/wasm-sum.js';
import { Rng } from '../src/models/rng.js';

beforeAll(async () => {
  await tf.setBackend('wasm');
  installWasmSumFix();
});
afterAll(async () => {
  await tf.setBackend('cpu');
});

async function sumOn(backend: string, data: Float32Array | Int32Array, shape: number[], axis: number | number[], keepDims: boolean) {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const out = tf.sum(tf.tensor(data, shape, data instanceof Int32Array ? 'int32' : 'float32'), axis, keepDims);
    return { shape: out.shape, data: Array.from(out.dataSync()) };
  });
}

/** Sums over `axis` of x, each accumulated in float32 from 0 over its elements in row-major order. */
function float32Sums(x: ArrayLike<number>, shape: number[], axis: number | number[]): number[] {
  const axes = new Set((Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + shape.length : a)));
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const keptDims = shape.map((d, i) => (axes.has(i) ? 1 : d));
  const outStrides = keptDims.map((_, i) => keptDims.slice(i + 1).reduce((a, b) => a * b, 1));
  const out = new Array(keptDims.reduce((a, b) => a * b, 1)).fill(0);
  for (let flat = 0; flat < x.length; flat++) {
    let o = 0;
    shape.forEach((_, i) => {
      if (!axes.has(i)) o += Math.floor(flat / strides[i]) % shape[i] * outStrides[i];
    });
    out[o] = Math.fround(out[o] + x[flat]);
  }
  return out;
}

describe('wasm: Sum over leading axes', () => {
  const rng = new Rng(4);
  const cases: Array<{ shape: number[]; axis: number | number[]; keepDims: boolean; int?: boolean }> = [
    { shape: [384, 78], axis: 0, keepDims: false },
    { shape: [5, 3, 7], axis: [0, 1], keepDims: true },
    { shape: [5, 3, 7], axis: [1, 0], keepDims: false },
    { shape: [6, 9], axis: 1, keepDims: false },
    { shape: [11], axis: 0, keepDims: false },
    { shape: [6, 9], axis: 0, keepDims: false, int: true },
  ];
  for (const c of cases) {
    it(`equals cpu bit for bit: shape [${c.shape}], axis ${JSON.stringify(c.axis)}, keepDims ${c.keepDims}${c.int ? ', int32' : ''}`, async () => {
      const size = c.shape.reduce((a, b) => a * b, 1);
      const data = c.int ? Int32Array.from({ length: size }, () => Math.floor(rng.uniform(-50, 50))) : Float32Array.from({ length: size }, () => rng.uniform(-1, 1));
      const before = tf.memory().numTensors;
      const wasm = await sumOn('wasm', data, c.shape, c.axis, c.keepDims);
      expect(tf.memory().numTensors).toBe(before);
      const cpu = await sumOn('cpu', data, c.shape, c.axis, c.keepDims);
      expect(wasm.shape).toEqual(cpu.shape);
      const expected = float32Sums(data, c.shape, c.axis);
      expect(wasm.data.length).toBe(expected.length);
      expect(wasm.data.every((v, i) => Object.is(v, expected[i]))).toBe(true);
    });
  }
});
