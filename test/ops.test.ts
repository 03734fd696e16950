/**
 * What each op of src/ops computes, against an independent definition in plain
 * JavaScript (float64), on the cpu backend: the LSTM layer (PyTorch's nn.LSTM:
 * gates i, f, g, o, zero initial state), the softmax cross-entropy (per-example
 * NLL and its gradient softmax - onehot) and ReLU's gradient (dy where y > 0,
 * 0 at 0); and the LSTM's hand-written backward pass against tfjs's autodiff of
 * the LSTM in plain ops. That every backend's kernels agree with these references
 * is test/ops-parity.test.ts.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { lstm } from '../src/ops/lstm.js';
import { reluGrad } from '../src/ops/relu.js';
import { softmaxCrossEntropy } from '../src/ops/softmax-xent.js';
import { Rng } from '../src/paper/rng.js';
import { lstmJS } from './fixtures/reference-js.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('lstm (src/ops/lstm.ts)', () => {
  it.each([
    [3, 5, 4, 3],
    [2, 1, 6, 4],
  ])('n=%i T=%i in=%i h=%i: every hidden state equals a plain-JS LSTM (gate order i, f, g, o)', (n, steps, inSize, units) => {
    const rng = new Rng(11);
    // Values that are exact in float32, so both sides see the same numbers.
    const rand = (len: number, scale: number) => Float64Array.from({ length: len }, () => Math.fround(rng.uniform(-scale, scale)));
    const x = rand(n * steps * inSize, 2);
    const wIn = rand(inSize * 4 * units, 1);
    const wRec = rand(units * 4 * units, 1);
    const bias = rand(4 * units, 1);
    const expected = lstmJS(x, n, steps, inSize, units, wIn, wRec, bias);
    const got = tf.tidy(() =>
      lstm(tf.tensor3d(Float32Array.from(x), [n, steps, inSize]), {
        inputKernel: tf.tensor2d(Float32Array.from(wIn), [inSize, 4 * units]),
        recurrentKernel: tf.tensor2d(Float32Array.from(wRec), [units, 4 * units]),
        bias: tf.tensor1d(Float32Array.from(bias)),
      }).dataSync(),
    );
    expect(got.length).toBe(expected.length);
    for (let k = 0; k < expected.length; k++) expect(got[k]).toBeCloseTo(expected[k], 5);
    // The reference is not trivially small: hidden states span a real range.
    expect(Math.max(...expected.map(Math.abs))).toBeGreaterThan(0.2);
  });
});

/** The LSTM as plain per-step tfjs ops, differentiated by tfjs's autodiff. */
function lstmAutodiff(x: tf.Tensor, w: tf.Tensor, u: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const [n, steps, inSize] = x.shape;
  const units = u.shape[0];
  const all = tf.reshape(tf.add(tf.matMul(tf.reshape(x, [n * steps, inSize]) as tf.Tensor2D, w as tf.Tensor2D), b), [n, steps, 4 * units]);
  let h: tf.Tensor = tf.zeros([n, units]);
  let c: tf.Tensor = tf.zeros([n, units]);
  const outputs: tf.Tensor[] = [];
  for (let t = 0; t < steps; t++) {
    const zt = tf.reshape(tf.slice(all, [0, t, 0], [n, 1, 4 * units]), [n, 4 * units]);
    const [i, f, g, o] = tf.split(tf.add(zt, tf.matMul(h as tf.Tensor2D, u as tf.Tensor2D)), 4, -1);
    c = tf.add(tf.mul(tf.sigmoid(f), c), tf.mul(tf.sigmoid(i), tf.tanh(g)));
    h = tf.mul(tf.sigmoid(o), tf.tanh(c));
    outputs.push(h);
  }
  return tf.stack(outputs, 1);
}

describe("lstm's gradients (the reference kernel's hand-written backpropagation through time)", () => {
  it.each([6, 1])('%i step(s): the gradients of x and all three weights equal tfjs autodiff of the LSTM in plain ops, every entry', (steps) => {
    const rng = new Rng(5);
    const [n, inSize, units] = [4, 7, 5];
    const rand = (shape: number[], scale: number) =>
      tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.uniform(-scale, scale)), shape);
    tf.tidy(() => {
      const inputs = [rand([n, steps, inSize], 1.5), rand([inSize, 4 * units], 0.8), rand([units, 4 * units], 0.8), rand([4 * units], 0.5)];
      // A loss that weighs every step's output differently, so every path of the backward pass counts.
      const weights = rand([n, steps, units], 1);
      const ours = tf.grads((x: tf.Tensor, w: tf.Tensor, u: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.mul(lstm(x as tf.Tensor3D, { inputKernel: w as tf.Tensor2D, recurrentKernel: u as tf.Tensor2D, bias: b as tf.Tensor1D }), weights)))(inputs);
      const autodiff = tf.grads((x: tf.Tensor, w: tf.Tensor, u: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(lstmAutodiff(x, w, u, b), weights)))(inputs);
      ours.forEach((g, k) => {
        const ref = autodiff[k].dataSync();
        const scale = Math.max(...Array.from(ref, Math.abs));
        // Not trivially zero, except the recurrent kernel's with one step (the initial state is zero).
        if (!(k === 2 && steps === 1)) expect(scale).toBeGreaterThan(1e-3);
        const got = g.dataSync();
        expect(got.length).toBe(ref.length);
        for (let i = 0; i < ref.length; i++) expect(Math.abs(got[i] - ref[i])).toBeLessThan(1e-5 * (1 + scale));
      });
    });
  });
});

describe('softmaxCrossEntropy (src/ops/softmax-xent.ts)', () => {
  it('per-example NLL of the label under log-softmax, and dy * (softmax - onehot) as the gradient, also for large logits', () => {
    const rng = new Rng(5);
    const [m, c] = [9, 10];
    const logits = Float32Array.from({ length: m * c }, (_, i) => rng.uniform(-6, 6) * (i < c ? 10 : 1)); // row 0 up to |60|
    const labels = Int32Array.from([0, 1, 2, 3, 4, 5, 6, 7, 9]);
    const dy = Float32Array.from({ length: m }, () => rng.uniform(-1, 1));
    const [losses, grad] = tf.tidy(() => {
      const lt = tf.tensor2d(logits, [m, c]);
      const yt = tf.tensor1d(labels, 'int32');
      const value = softmaxCrossEntropy(lt, yt);
      const g = tf.grad((l: tf.Tensor) => tf.sum(tf.mul(softmaxCrossEntropy(l as tf.Tensor2D, yt), tf.tensor1d(dy))))(lt);
      return [value.dataSync(), g.dataSync()];
    });
    expect(losses.length).toBe(m);
    for (let i = 0; i < m; i++) {
      const row = Array.from(logits.subarray(i * c, (i + 1) * c));
      const max = Math.max(...row);
      const logZ = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
      expect(losses[i]).toBeCloseTo(logZ - row[labels[i]], 4);
      for (let k = 0; k < c; k++) {
        const expected = dy[i] * (Math.exp(row[k] - logZ) - (k === labels[i] ? 1 : 0));
        expect(grad[i * c + k]).toBeCloseTo(expected, 6);
      }
    }
    expect(losses.every(Number.isFinite)).toBe(true);
  });
});

describe("ReLU's gradient (src/ops/relu.ts)", () => {
  it('the gradient of tf.relu is dy where the output is > 0, else 0 (0 at 0, as tfjs); reluGrad is the same', () => {
    tf.tidy(() => {
      const xs = tf.tensor([-2, -0, 0, 1e-30, 3, -1e-30], [2, 3]);
      const dy = tf.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
      expect(Array.from(tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.relu(v), dy)))(xs).dataSync())).toEqual([0, 0, 0, 4, 5, 0]);
      expect(Array.from(reluGrad(dy, tf.relu(xs)).dataSync())).toEqual([0, 0, 0, 4, 5, 0]);
      expect(Array.from(tf.relu(xs).dataSync())).toEqual([0, 0, 0, 1e-30, 3, 0].map(Math.fround));
    });
  });
});
