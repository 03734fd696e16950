/**
 * One table, every fast kernel: each op x each backend, against the reference
 * kernels on the cpu backend (plain tfjs ops). An op's row computes its value and
 * its gradients (through a fixed random cotangent) and must agree within float32
 * noise; every row also checks that nothing is left in tfjs's memory. The reference
 * kernels themselves are checked against finite differences, and the generated
 * WebAssembly against its source.
 */
import fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { installNodeKernels } from '../src/backend/node/kernels.js';
import { installWasmKernels } from '../src/backend/wasm/install.js';
import { ADAM_UPDATE } from '../src/ops/adam-update.js';
import { lstm, lstmReference } from '../src/ops/lstm.js';
import { runKernel } from '../src/ops/registry.js';
import { softmaxCrossEntropy } from '../src/ops/softmax-xent.js';
import { Rng } from '../src/paper/rng.js';
// @ts-expect-error: a plain .mjs script without type declarations
import { generate, GENERATED_PATH } from '../scripts/wasm-kernels.mjs';
import { nativeStatus } from './fixtures/native-status.js';

const native = nativeStatus();
const BACKENDS = ['wasm', ...(native.built ? ['tensorflow'] : [])];

beforeAll(async () => {
  await tf.setBackend('wasm');
  installWasmKernels();
  if (native.built) {
    await import('@tensorflow/tfjs-node');
    installNodeKernels();
  }
  await tf.setBackend('cpu');
});

type Arr = { shape: number[]; data: Float32Array };
const rand = (rng: Rng, shape: number[], scale = 1): Arr => {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = rng.uniform(-scale, scale);
  return { shape, data };
};

interface Row {
  op: string;
  /** Inputs as plain arrays; `run` gets them as tensors and returns the outputs to compare. */
  inputs: (rng: Rng) => Arr[];
  run: (ts: tf.Tensor[]) => tf.Tensor[];
  /** Relative tolerance: max |a - b| <= tol * (1 + max |reference|). */
  tol: number;
}

/** Value and the gradients w.r.t. every input of sum(f(inputs) * cotangent). */
const withGrads = (f: (ts: tf.Tensor[]) => tf.Tensor) => (ts: tf.Tensor[]) => {
  const value = f(ts);
  const cot = tf.tensor(rand(new Rng(99, 0), value.shape).data, value.shape);
  return [value, ...tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(f(xs), cot)))(ts)];
};

const lstmRow = (n: number, steps: number, inSize: number, units: number, scale: number): Row => ({
  op: `GlanceLstm n=${n} T=${steps} in=${inSize} h=${units} |x|<=${scale}`,
  inputs: (rng) => [rand(rng, [n, steps, inSize], scale), rand(rng, [inSize, 4 * units], 0.5), rand(rng, [units, 4 * units], 0.5), rand(rng, [4 * units], 0.5)],
  run: withGrads(([x, w, u, b]) =>
    lstm(x as tf.Tensor3D, { inputKernel: w as tf.Tensor2D, recurrentKernel: u as tf.Tensor2D, bias: b as tf.Tensor1D }),
  ),
  tol: 2e-5,
});

const ROWS: Row[] = [
  lstmRow(5, 6, 12, 8, 1),
  lstmRow(3, 6, 10, 8, 20), // saturating gates: every branch of the SIMD exp/sigmoid/tanh
  lstmRow(4, 1, 6, 8, 1),
  lstmRow(4, 3, 5, 6, 1), // units not a multiple of 4: the wasm kernel falls back to the reference
  {
    op: 'GlanceLstm reference kernel run directly',
    inputs: (rng) => [rand(rng, [3, 4, 5]), rand(rng, [5, 16], 0.5), rand(rng, [4, 16], 0.5), rand(rng, [16], 0.5)],
    run: ([x, w, u, b]) => lstmReference(x, w, u, b),
    tol: 1e-5,
  },
  {
    op: 'GlanceSoftmaxXent',
    inputs: (rng) => [rand(rng, [9, 10], 30)],
    run: withGrads(([logits]) => softmaxCrossEntropy(logits as tf.Tensor2D, tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7, 9], 'int32'))),
    tol: 1e-5,
  },
  {
    op: 'GlanceAdamUpdate (w, m, v after one step; 1001 floats: SIMD body and scalar tail)',
    inputs: (rng) => [rand(rng, [7, 143]), rand(rng, [7, 143], 1e-2), rand(rng, [7, 143], 1e-3), { shape: [7, 143], data: rand(rng, [7, 143], 1e-3).data.map(Math.abs) }],
    run: (ts) => runKernel(ADAM_UPDATE, { w: ts[0], g: ts[1], m: ts[2], v: ts[3] }, { beta1: 0.9, beta2: 0.999, epsT: 1e-8 * 0.04, lrT: 1e-3 * 2.1 }),
    tol: 0,
  },
  {
    op: 'GlanceReluGrad (the gradient of tf.relu)',
    inputs: (rng) => [{ shape: [3, 17], data: rand(rng, [3, 17]).data.map((v, i) => (i % 5 === 0 ? 0 : v)) }],
    run: withGrads(([x]) => tf.relu(x)),
    tol: 0,
  },
  ...[
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ].map(([ta, tb]): Row => ({
    op: `BatchMatMul transposeA=${ta} transposeB=${tb}`,
    inputs: (rng) => [rand(rng, ta ? [2, 5, 7] : [2, 7, 5]), rand(rng, tb ? [2, 3, 5] : [2, 5, 3])],
    run: ([a, b]) => [tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D, ta, tb)],
    tol: 1e-6,
  })),
  {
    op: 'Slice, SplitV, Unpack',
    inputs: (rng) => [rand(rng, [4, 6, 8])],
    run: ([x]) => [tf.slice(x, [1, 2, 3], [2, 3, 4]), ...tf.split(x, [3, 5], 2), ...tf.unstack(x, 1)],
    tol: 0,
  },
  {
    op: 'Sum over leading axes (and others)',
    inputs: (rng) => [rand(rng, [6, 5, 9])],
    run: ([x]) => [tf.sum(x, 0), tf.sum(x, [0, 1]), tf.sum(x, 2), tf.sum(x, 0, true)],
    tol: 1e-6,
  },
  {
    // One step, the input kernel the identity on the 4 gate blocks: the gates are x itself.
    op: 'GlanceLstm gates swept over [-40, 40] and near 0 (every branch of exp, sigmoid, tanh), value and dx',
    inputs: () => [
      { shape: [101, 1, 32], data: Float32Array.from({ length: 101 * 32 }, (_, k) => (k % 97 < 40 ? ((k % 97) - 20) * 1e-3 : (((k % 97) - 68) / 28) * 40)) },
      { shape: [32, 32], data: Float32Array.from({ length: 32 * 32 }, (_, k) => (Math.floor(k / 32) === k % 32 ? 1 : 0)) },
      { shape: [8, 32], data: new Float32Array(8 * 32) },
      { shape: [32], data: new Float32Array(32) },
    ],
    run: ([x, w, u, b]) => {
      const f = (xs: tf.Tensor) => lstm(xs as tf.Tensor3D, { inputKernel: w as tf.Tensor2D, recurrentKernel: u as tf.Tensor2D, bias: b as tf.Tensor1D });
      return [f(x), tf.grad((xs: tf.Tensor) => tf.sum(f(xs)))(x)];
    },
    tol: 3e-7,
  },
  ...[
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ].map(([ta, tb]): Row => ({
    op: `BatchMatMul [2, 37, 50] x [2, 50, 21] (partial 16 x 16 transpose tiles) transposeA=${ta} transposeB=${tb}, with gradients`,
    inputs: (rng) => [rand(rng, ta ? [2, 50, 37] : [2, 37, 50]), rand(rng, tb ? [2, 21, 50] : [2, 50, 21])],
    run: withGrads(([a, b]) => tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D, ta, tb)),
    tol: 1e-5,
  })),
  {
    op: 'BatchMatMul broadcast over the batch ([4, 9, 6]^T x [1, 2, 9]^T)',
    inputs: (rng) => [rand(rng, [4, 9, 6]), rand(rng, [1, 2, 9])],
    run: ([a, b]) => [tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D, true, true)],
    tol: 1e-6,
  },
  {
    op: 'A dense layer at MNIST size ([64, 784] x [784, 100]), with gradients (transposed matmuls)',
    inputs: (rng) => [rand(rng, [64, 784]), rand(rng, [784, 100], 0.05)],
    run: withGrads(([x, w]) => tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D)),
    tol: 1e-5,
  },
  {
    op: 'Slice of ranks 1-5 (partial and whole dims, -1 sizes); SplitV and Unpack on every axis; int32',
    inputs: (rng) => [rand(rng, [10]), rand(rng, [5, 7]), rand(rng, [4, 4, 6, 8]), rand(rng, [2, 3, 2, 3, 4])],
    run: ([v, m, r4, r5]) => [
      tf.slice(v, [3], [4]), tf.slice(v, [0], [-1]),
      tf.slice(m, [1, 2], [3, 4]), tf.slice(m, [2, 0], [2, 7]), tf.slice(m, [0, 0], [5, 7]),
      tf.slice(r4, [1, 0, 2, 0], [2, 4, 3, 8]), tf.slice(r4, [0, 1, 1, 2], [-1, 2, 4, 5]),
      tf.slice(r5, [1, 1, 0, 1, 1], [1, 2, 2, 2, 3]),
      ...[0, 1, 2, 3].flatMap((axis) => [...tf.split(r4, 2, axis), ...tf.unstack(r4, axis)]),
      ...tf.split(r4, [1, 5, 2], 3),
      ...tf.split(tf.cast(tf.mul(m, 100), 'int32'), [2, 5], 1).map((t) => tf.cast(t, 'float32')),
    ],
    tol: 0,
  },
  {
    op: 'Gradients through Slice, SplitV and Unpack',
    inputs: (rng) => [rand(rng, [3, 5, 4]), rand(rng, [3, 2, 4])],
    run: withGrads(([x, w]) => {
      const [a, b] = tf.split(x, [2, 3], 1);
      const parts = tf.unstack(tf.slice(b, [0, 1, 1], [-1, 2, 3]), 0);
      return tf.add(tf.sum(tf.mul(a, w)), tf.sum(tf.stack(parts.map((p) => tf.square(p)))));
    }),
    tol: 1e-6,
  },
  {
    op: 'Sum over leading axes: SIMD blocks and a tail, unordered axes, keepDims, rank 1, int32',
    inputs: (rng) => [rand(rng, [384, 78]), rand(rng, [5, 3, 7]), rand(rng, [11])],
    run: ([big, x, v]) => [
      tf.sum(big, 0), tf.sum(x, [1, 0]), tf.sum(x, [0, 1], true), tf.sum(v, 0),
      tf.cast(tf.sum(tf.cast(tf.mul(x, 50), 'int32'), 0), 'float32'),
    ],
    tol: 1e-5,
  },
];

/** The row's outputs on a backend, run twice: the second run must leave nothing behind (the first may fill caches). */
function outputsOn(backend: string, row: Row): Float32Array[] {
  tf.setBackend(backend);
  const inputs = row.inputs(new Rng(7, 0));
  const once = () => {
    const outs = tf.tidy(() => row.run(inputs.map((a) => tf.tensor(a.data, a.shape))));
    const data = outs.map((t) => t.dataSync().slice() as Float32Array);
    tf.dispose(outs);
    return data;
  };
  once();
  const before = tf.memory().numTensors;
  const data = once();
  expect(tf.memory().numTensors, `${row.op} on ${backend} leaves tensors behind`).toBe(before);
  return data;
}

const maxAbs = (a: ArrayLike<number>) => Array.from(a).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

describe.each(BACKENDS)('fast kernels on %s against the cpu reference', (backend) => {
  it.each(ROWS.map((r) => [r.op, r] as const))('%s', (_, row) => {
    const want = outputsOn('cpu', row);
    const got = outputsOn(backend, row);
    expect(got.length).toBe(want.length);
    want.forEach((w, k) => {
      expect(got[k].length).toBe(w.length);
      expect(maxDiff(got[k], w), `output ${k}`).toBeLessThanOrEqual(row.tol * (1 + maxAbs(w)));
    });
  });
});

describe('reference kernels against finite differences (cpu, float32)', () => {
  /** Central differences of sum(f * cot) w.r.t. a few entries of input k, against the op's gradient. */
  function check(row: Row, picks = 6): void {
    tf.setBackend('cpu');
    const inputs = row.inputs(new Rng(11, 0));
    const [, ...grads] = tf.tidy(() => row.run(inputs.map((a) => tf.tensor(a.data, a.shape)))).map((t) => t.dataSync().slice());
    const value = (arrs: Arr[]) => tf.tidy(() => {
      const v = row.run(arrs.map((a) => tf.tensor(a.data, a.shape)))[0];
      const cot = tf.tensor(rand(new Rng(99, 0), v.shape).data, v.shape);
      return tf.sum(tf.mul(v, cot)).dataSync()[0];
    });
    const rng = new Rng(3, 0);
    inputs.forEach((input, k) => {
      for (let p = 0; p < picks; p++) {
        const i = Math.floor(rng.uniform(0, input.data.length));
        const h = 1e-2;
        const plus = inputs.map((a, j) => (j === k ? { shape: a.shape, data: a.data.map((v, q) => (q === i ? v + h : v)) } : a));
        const minus = inputs.map((a, j) => (j === k ? { shape: a.shape, data: a.data.map((v, q) => (q === i ? v - h : v)) } : a));
        const numeric = (value(plus) - value(minus)) / (2 * h);
        expect(Math.abs(numeric - grads[k][i]), `${row.op}: d/d input ${k}[${i}]`).toBeLessThanOrEqual(5e-3 * (1 + Math.abs(numeric)));
      }
    });
  }
  it('GlanceLstm', () => check(lstmRow(3, 4, 5, 4, 1)));
  it('GlanceSoftmaxXent', () => check(ROWS.find((r) => r.op === 'GlanceSoftmaxXent')!));
});

describe("wasm: Sum over leading axes adds in tfjs's own float32 order (bit for bit)", () => {
  it('each output accumulated in float32 from 0 over the reduced elements in row-major order', () => {
    tf.setBackend('wasm');
    const rng = new Rng(4, 0);
    for (const [shape, axis] of [[[384, 78], 0], [[5, 3, 7], [0, 1]], [[5, 3, 7], [1, 0]]] as Array<[number[], number | number[]]>) {
      const x = rand(rng, shape);
      const got = tf.tidy(() => Array.from(tf.sum(tf.tensor(x.data, shape), axis).dataSync()));
      const axes = new Set([axis].flat());
      const outer = shape.filter((_, i) => !axes.has(i)).reduce((a, b) => a * b, 1);
      const want = new Array(outer).fill(0);
      for (let flat = 0; flat < x.data.length; flat++) want[flat % outer] = Math.fround(want[flat % outer] + x.data[flat]);
      expect(got.every((v, i) => Object.is(v, want[i])), `shape [${shape}], axis ${JSON.stringify(axis)}`).toBe(true);
    }
    tf.setBackend('cpu');
  });
});

describe('the generated WebAssembly', () => {
  it('src/backend/wasm/kernels.generated.ts is kernels.wat assembled (run `npm run wasm-kernels` if not)', async () => {
    expect(fs.readFileSync(GENERATED_PATH, 'utf8')).toBe(await generate());
  });
});
