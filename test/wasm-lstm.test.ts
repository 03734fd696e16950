/**
 * The WASM backend's LSTM layer with SIMD pointwise kernels (src/models/lstm-wasm.ts)
 * against the tfjs-op layer (src/models/lstm.ts) run on the cpu backend: the value
 * and all four gradients, for 6 steps and 1, moderate and saturating pre-activations,
 * and pre-activations swept over [-40, 40] through every branch of exp, sigmoid and
 * tanh (incl. tanh's small-argument polynomial); no tensors left behind.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wasmLstm } from '../src/models/lstm-wasm.js';
import { lstmLayer, lstmLayerOps } from '../src/models/lstm.js';
import { Rng } from '../src/models/rng.js';

beforeAll(async () => {
  await tf.setBackend('wasm');
});
afterAll(async () => {
  await tf.setBackend('cpu');
});

const maxAbs = (a: ArrayLike<number>) => Array.from(a).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

type Arrays = { data: Float32Array; shape: number[] }[];

/** Value and gradients of sum(layer(x) * weights) w.r.t. x, w, u, b on the active backend, read back. */
function run(impl: typeof lstmLayer, inputs: Arrays, weights: Arrays[number]): Float32Array[] {
  return tf.tidy(() => {
    const ts = inputs.map((a) => tf.tensor(a.data, a.shape));
    const wt = tf.tensor(weights.data, weights.shape);
    const f = (x: tf.Tensor, w: tf.Tensor, u: tf.Tensor, b: tf.Tensor) =>
      impl(x as tf.Tensor3D, { inputKernel: w, recurrentKernel: u, bias: b });
    const value = f(ts[0], ts[1], ts[2], ts[3]);
    const grads = tf.grads((x: tf.Tensor, w: tf.Tensor, u: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(x, w, u, b), wt)))(ts);
    return [value, ...grads].map((t) => t.dataSync().slice() as Float32Array);
  });
}

describe('wasm: the LSTM layer with SIMD pointwise kernels', () => {
  const cases = [
    { steps: 6, scale: 1, what: '6 steps' },
    { steps: 1, scale: 1, what: '1 step' },
    { steps: 6, scale: 6, what: '6 steps, saturating gates' },
  ];
  for (const { steps, scale, what } of cases) {
    it(`equals the tfjs-op layer on cpu in value and all four gradients (${what}); lstmLayer uses it on wasm`, async () => {
      const rng = new Rng(7);
      const rand = (shape: number[], s: number) => ({ data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.uniform(-s, s)), shape });
      const [n, inSize, units] = [5, 9, 8];
      const inputs = [rand([n, steps, inSize], 1.5 * scale), rand([inSize, 4 * units], 0.8), rand([units, 4 * units], 0.8), rand([4 * units], 0.5)];
      const weights = rand([n, steps, units], 1);
      const before = tf.memory().numTensors;
      const ours = run(lstmLayer, inputs, weights);
      const wasmOps = run(lstmLayerOps, inputs, weights);
      expect(tf.memory().numTensors).toBe(before);
      await tf.setBackend('cpu');
      const reference = run(lstmLayerOps, inputs, weights);
      await tf.setBackend('wasm');
      expect(maxDiff(ours[0], reference[0])).toBeLessThan(1e-6);
      ours.slice(1).forEach((g, k) => {
        const ref = reference[k + 1];
        // Not trivially zero, except the recurrent kernel's with one step (the initial state is zero).
        if (!(k === 2 && steps === 1)) expect(maxAbs(ref)).toBeGreaterThan(1e-3);
        expect(maxDiff(g, ref)).toBeLessThan(1e-5 * (1 + maxAbs(ref)));
      });
      // The kernel path is taken: the same numbers as wasmLstm called directly, and not bit-identical to wasm's tfjs ops.
      const direct = run(((x, p) => wasmLstm(x, p.inputKernel, p.recurrentKernel, p.bias)) as typeof lstmLayer, inputs, weights);
      ours.forEach((a, k) => expect(Array.from(a)).toEqual(Array.from(direct[k])));
      expect(ours.some((a, k) => maxDiff(a, wasmOps[k]) > 0)).toBe(true);
    });
  }

  it('pre-activations over [-40, 40]: sigmoid and tanh within 3e-7 of the cpu backend', async () => {
    // One step, the input kernel the identity on the 4 gate blocks: gates = x.
    const units = 8;
    const n = 101;
    const x = Float32Array.from({ length: n * 4 * units }, (_, k) => {
      const r = k % 97;
      return r < 40 ? (r - 20) * 1e-3 : ((r - 68) / 28) * 40; // small arguments (tanh's polynomial), and [-40, 40]
    });
    const eye = Float32Array.from({ length: 16 * units * units }, (_, k) => (Math.floor(k / (4 * units)) === k % (4 * units) ? 1 : 0));
    const inputs = [{ data: x, shape: [n, 1, 4 * units] }, { data: eye, shape: [4 * units, 4 * units] }, { data: new Float32Array(4 * units * units), shape: [units, 4 * units] }, { data: new Float32Array(4 * units), shape: [4 * units] }];
    const weights = { data: new Float32Array(n * units).fill(1), shape: [n, 1, units] };
    const ours = run(lstmLayer, inputs, weights);
    await tf.setBackend('cpu');
    const reference = run(lstmLayerOps, inputs, weights);
    await tf.setBackend('wasm');
    expect(maxDiff(ours[0], reference[0])).toBeLessThan(3e-7);
    expect(maxDiff(ours[1], reference[1])).toBeLessThan(3e-7);
  });
});
