/**
 * The two hand-fused pieces of a training step against what they replace:
 * the LSTM layer's hand-written backward pass against tfjs's autodiff of the
 * plain per-step formulation (single and packed shapes, all four gradients),
 * and our Adam (tfjs ops, the SIMD kernel on wasm, TensorFlow's fused kernel on node)
 * against
 * tf.train.adam over several steps.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Adam, type AdamMode } from '../src/models/adam.js';
import { lstmLayer, type LstmParams } from '../src/models/lstm.js';
import { relu } from '../src/models/relu.js';
import { Rng } from '../src/models/rng.js';
import { nativeStatus } from './fixtures/native-status.js';

const native = nativeStatus();

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** The LSTM as plain per-step ops, differentiated by tfjs (the implementation before the fused op). */
function lstmAutodiff(x: tf.Tensor, p: LstmParams): tf.Tensor {
  const lead = x.shape.slice(0, -3);
  const [n, steps, inSize] = x.shape.slice(-3);
  const units = p.recurrentKernel.shape[p.recurrentKernel.rank - 2];
  const stepAxis = x.rank - 2;
  const mm = (a: tf.Tensor, b: tf.Tensor) => tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D);
  const projected = tf.add(mm(tf.reshape(x, [...lead, n * steps, inSize]), p.inputKernel), p.bias);
  const all = tf.reshape(projected, [...lead, n, steps, 4 * units]);
  // Slices rather than tf.unstack: tfjs's Unpack gradient fails for a single step.
  const byStep = Array.from({ length: steps }, (_, t) =>
    tf.reshape(tf.slice(all, [...lead.map(() => 0), 0, t, 0], [...lead, n, 1, 4 * units]), [...lead, n, 4 * units]),
  );
  let h: tf.Tensor = tf.zeros([...lead, n, units]);
  let c: tf.Tensor = tf.zeros([...lead, n, units]);
  const outputs: tf.Tensor[] = [];
  for (let t = 0; t < steps; t++) {
    const [i, f, g, o] = tf.split(tf.add(byStep[t], mm(h, p.recurrentKernel)), 4, -1);
    c = tf.add(tf.mul(tf.sigmoid(f), c), tf.mul(tf.sigmoid(i), tf.tanh(g)));
    h = tf.mul(tf.sigmoid(o), tf.tanh(c));
    outputs.push(h);
  }
  return tf.stack(outputs, stepAxis);
}

function randomTensor(rng: Rng, shape: number[], scale: number): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: size }, () => rng.uniform(-scale, scale)), shape);
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  expect(a.shape).toEqual(b.shape);
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

describe('fused LSTM op', () => {
  const cases: Array<{ name: string; lead: number[]; steps: number }> = [
    { name: 'single [n, T, in]', lead: [], steps: 6 },
    { name: 'packed [R, n, T, in]', lead: [3], steps: 6 },
    { name: 'one step', lead: [], steps: 1 },
  ];
  for (const { name, lead, steps } of cases) {
    it(`${name}: value and the gradients of x and all three weights equal autodiff`, () => {
      const rng = new Rng(5);
      const [n, inSize, units] = [4, 7, 5];
      const x = randomTensor(rng, [...lead, n, steps, inSize], 1.5);
      const p: LstmParams = {
        inputKernel: randomTensor(rng, [...lead, inSize, 4 * units], 0.8),
        recurrentKernel: randomTensor(rng, [...lead, units, 4 * units], 0.8),
        bias: randomTensor(rng, lead.length ? [...lead, 1, 4 * units] : [4 * units], 0.5),
      };
      // A loss that weighs every step's output differently, so every path of the backward pass counts.
      const weights = randomTensor(rng, [...lead, n, steps, units], 1);
      const loss = (impl: typeof lstmAutodiff) => (xx: tf.Tensor, w: tf.Tensor, u: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.mul(impl(xx, { inputKernel: w, recurrentKernel: u, bias: b }), weights));
      const before = tf.memory().numTensors;
      const fused = tf.grads(loss(lstmLayer as typeof lstmAutodiff))([x, p.inputKernel, p.recurrentKernel, p.bias]);
      const reference = tf.grads(loss(lstmAutodiff))([x, p.inputKernel, p.recurrentKernel, p.bias]);
      tf.tidy(() => {
        expect(maxAbsDiff(lstmLayer(x as tf.Tensor3D, p), lstmAutodiff(x, p))).toBeLessThan(1e-6);
      });
      fused.forEach((g, k) => {
        const scale = tf.tidy(() => tf.max(tf.abs(reference[k])).dataSync()[0]);
        // Not trivially zero, except the recurrent kernel's with one step (the initial state is zero).
        if (!(k === 2 && steps === 1)) expect(scale).toBeGreaterThan(1e-3);
        expect(maxAbsDiff(g, reference[k])).toBeLessThan(1e-5 * (1 + scale));
      });
      tf.dispose([...fused, ...reference]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([x, p.inputKernel, p.recurrentKernel, p.bias, weights]);
    });
  }
});

const adamCases: Array<{ backend: string; mode: AdamMode; skip: boolean }> = [
  { backend: 'cpu', mode: 'ops', skip: false },
  { backend: 'wasm', mode: 'simd', skip: false },
  { backend: 'tensorflow', mode: 'fused', skip: !native.built },
  { backend: 'tensorflow', mode: 'ops', skip: !native.built },
];

describe('Adam', () => {
  beforeAll(async () => {
    if (native.built) await import('@tensorflow/tfjs-node');
  });
  afterEach(async () => {
    await tf.setBackend('cpu');
  });

  for (const { backend, mode, skip } of adamCases) it.skipIf(skip)(`${mode} on ${backend}: takes the same steps as tf.train.adam (5 steps, 3 weights of different shapes), and leaks nothing`, async () => {
    await tf.setBackend(backend);
    const rng = new Rng(9);
    const shapes = [[3, 4], [4], [2, 2, 2]];
    const init = shapes.map((s) => randomTensor(rng, s, 1));
    const targets = shapes.map((s) => randomTensor(rng, s, 1));
    const ours = init.map((t) => tf.variable(t.clone()));
    const theirs = init.map((t) => tf.variable(t.clone()));
    // A loss with different curvature per weight, so the moments differ between weights.
    const loss = (vs: tf.Variable[]) => () =>
      tf.addN(vs.map((v, k) => tf.sum(tf.mul(k + 1, tf.square(tf.sub(v, targets[k])))))) as tf.Scalar;
    const adam = new Adam(ours, 0.05, 0.9, 0.999, 1e-8, mode);
    const reference = tf.train.adam(0.05);
    const before = tf.memory().numTensors;
    for (let step = 0; step < 5; step++) {
      const a = adam.minimize(loss(ours));
      const b = reference.minimize(loss(theirs), true, theirs)!;
      const [la, lb] = [a.dataSync()[0], b.dataSync()[0]];
      expect(Math.abs(la - lb)).toBeLessThan(1e-5 * Math.abs(lb));
      tf.dispose([a, b]);
    }
    // Float32 rounding only: tfjs keeps the powers of beta as float32 tensors, we fold them in float64.
    ours.forEach((v, k) => expect(maxAbsDiff(v, theirs[k])).toBeLessThan(1e-5));
    // The weights moved: the comparison is not of untouched values.
    ours.forEach((v, k) => expect(maxAbsDiff(v, init[k])).toBeGreaterThan(0.05));
    // Only tf.train.adam's lazily created moments (2 per weight) and step counters may have appeared.
    expect(tf.memory().numTensors - before).toBeLessThanOrEqual(2 * shapes.length + 2);
    adam.dispose();
    reference.dispose();
    tf.dispose([...init, ...targets, ...ours, ...theirs]);
  });

  it.skipIf(!native.built)('fused on tensorflow: a weight assigned between steps is stepped from its new value; a tensor read before a step keeps its values', async () => {
    await tf.setBackend('tensorflow');
    const w = tf.variable(tf.tensor1d([1, 2, 3]));
    const adam = new Adam([w], 0.1, 0.9, 0.999, 1e-8, 'fused');
    const grad = () => [tf.tensor1d([1, -1, 1])];
    adam.step(grad());
    const held = w.clone();
    expect(Array.from(held.dataSync())).toEqual(Array.from(Float32Array.from([0.9, 2.1, 2.9])));
    w.assign(tf.tensor1d([10, 20, 30]));
    adam.step(grad());
    // Adam's first steps move each weight by about lr against the gradient's sign.
    const after = Array.from(w.dataSync());
    [9.9, 20.1, 29.9].forEach((v, i) => expect(after[i]).toBeCloseTo(v, 4));
    expect(Array.from(held.dataSync())).toEqual(Array.from(Float32Array.from([0.9, 2.1, 2.9])));
    adam.dispose();
    tf.dispose([w, held]);
  });
});

describe('relu', () => {
  it('value and gradient equal tf.relu, at 0 and on both sides', () => {
    const x = tf.tensor1d([-2, -1e-30, 0, 1e-30, 0.5, 3]);
    const dy = tf.tensor1d([1, 2, 3, 4, 5, 6]);
    const ours = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(relu(t), dy)))(x);
    const theirs = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.relu(t), dy)))(x);
    expect(Array.from(ours.dataSync())).toEqual([0, 0, 0, 4, 5, 6]);
    expect(Array.from(ours.dataSync())).toEqual(Array.from(theirs.dataSync()));
    expect(Array.from(relu(x).dataSync())).toEqual(Array.from(tf.relu(x).dataSync()));
    tf.dispose([x, dy, ours, theirs]);
  });
});
