/**
 * The written-out training step of NormalNet/AdvNet (src/models/mlp-step.ts) and the
 * fused loss (src/models/loss.ts) against tfjs autodiff of the model as defined in
 * net.ts, on cpu, wasm and, when built, native TensorFlow (whose SSCE and
 * ReluGrad kernels they use there): loss value, every weight gradient, the input gradient,
 * AdvNet's two-pass objective, packed replicates, reported loss and hits, no leaks.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { inputGradient } from '../src/attacks/fgsm.js';
import { Adam } from '../src/models/adam.js';
import { countHits, scaledNll, softmaxCrossEntropy, sumNll } from '../src/models/loss.js';
import { mlpForward, mlpGradients, mlpInputGradient, mlpTrainStep } from '../src/models/mlp-step.js';
import { initWeights, Net, nllLoss } from '../src/models/net.js';
import { PackedNet } from '../src/models/packed.js';
import { relu, reluGrad } from '../src/models/relu.js';
import { Rng } from '../src/models/rng.js';
import { mnistTestSample } from './fixtures/mnist-sample.js';
import { nativeStatus } from './fixtures/native-status.js';

const native = nativeStatus();
const N = 24;
let x: Float32Array;
let y: Int32Array;

beforeAll(async () => {
  ({ x, y } = mnistTestSample(3 * N, 29));
  if (native.built) await import('@tensorflow/tfjs-node');
});

const maxAbs = (a: ArrayLike<number>) => Array.from(a).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
function expectClose(actual: tf.Tensor | Float32Array, expected: tf.Tensor | Float32Array, rel = 1e-5): void {
  const a = actual instanceof tf.Tensor ? (actual.dataSync() as Float32Array) : actual;
  const b = expected instanceof tf.Tensor ? (expected.dataSync() as Float32Array) : expected;
  if (actual instanceof tf.Tensor && expected instanceof tf.Tensor) expect(actual.shape).toEqual(expected.shape);
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  expect(m).toBeLessThanOrEqual(rel * (1 + maxAbs(b)));
}

const backends = [{ name: 'cpu', skip: false }, { name: 'wasm', skip: false }, { name: 'tensorflow', skip: !native.built }];

for (const { name: backend, skip } of backends) {
  describe.skipIf(skip)(`on ${backend}`, () => {
    beforeAll(async () => {
      await tf.setBackend(backend);
    });

    it('softmaxCrossEntropy and scaledNll equal log-softmax + NLL and its autodiff gradient (2-D and packed 3-D logits)', () => {
      const rng = new Rng(5);
      for (const shape of [[N, 10], [3, N, 10]]) {
        tf.tidy(() => {
          const logits = tf.tensor(Float32Array.from({ length: shape[0] * shape[1] * (shape[2] ?? 1) }, () => rng.uniform(-6, 6)), shape);
          const labels = tf.tensor(y.subarray(0, logits.size / 10), shape.slice(0, -1), 'int32');
          const oneHot = tf.oneHot(labels as tf.Tensor1D, 10);
          const ref = (l: tf.Tensor) => tf.mul(tf.neg(tf.sum(tf.mul(tf.logSoftmax(l), oneHot))), 0.25) as tf.Scalar;
          const { losses, backprop } = softmaxCrossEntropy(logits, labels);
          expectClose(losses, tf.neg(tf.sum(tf.mul(tf.logSoftmax(logits), oneHot), -1)));
          expectClose(backprop, tf.sub(tf.softmax(logits), oneHot));
          expectClose(scaledNll(logits, labels, 0.25), ref(logits));
          expectClose(tf.grad((l) => scaledNll(l, labels, 0.25))(logits), tf.grad(ref)(logits));
          expect(sumNll(logits.dataSync(), labels.dataSync(), 10)).toBeCloseTo(tf.sum(losses).dataSync()[0], 3);
          const hits = tf.sum(tf.cast(tf.equal(tf.argMax(logits, -1), labels), 'int32')).dataSync()[0];
          expect(countHits(logits.dataSync(), labels.dataSync(), 10)).toBe(hits);
        });
      }
    });

    it('reluGrad is dy * (y > 0), the gradient of relu', () => {
      tf.tidy(() => {
        const xs = tf.tensor([-2, -0, 0, 1e-30, 3, -1e-30], [2, 3]);
        const dy = tf.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
        expect(Array.from(reluGrad(dy, tf.relu(xs)).dataSync())).toEqual([0, 0, 0, 4, 5, 0]);
        expect(Array.from(tf.grad((v) => tf.sum(tf.mul(relu(v), dy)))(xs).dataSync())).toEqual([0, 0, 0, 4, 5, 0]);
        // Bit for bit the ops it replaces (incl. the sign of zero), over SIMD blocks and a tail (wasm's kernel).
        const rng = new Rng(2);
        const y2 = tf.relu(tf.tensor(Float32Array.from({ length: 3 * 67 }, () => rng.uniform(-1, 1)), [3, 67]));
        const dy2 = tf.tensor(Float32Array.from({ length: 3 * 67 }, () => rng.uniform(-1, 1)), [3, 67]);
        const ours = Array.from(reluGrad(dy2, y2).dataSync());
        const ops = Array.from(tf.mul(dy2, tf.cast(tf.greater(y2, 0), 'float32')).dataSync());
        expect(ours.every((v, i) => Object.is(v, ops[i]))).toBe(true);
        expect(ours.some((v) => Object.is(v, -0))).toBe(true);
      });
    });

    it('NormalNet: the written-out gradients equal autodiff of the mean NLL, weights and input', () => {
      const net = new Net({ model: 'NormalNet' }, initWeights({ model: 'NormalNet' }, 3));
      tf.tidy(() => {
        const xt = tf.tensor2d(x.subarray(0, N * 784), [N, 784]);
        const yt = tf.tensor1d(y.subarray(0, N), 'int32');
        const pass = mlpForward(net.params, xt, yt);
        expectClose(tf.logSoftmax(pass.logits), net.forward(xt));
        const ours = mlpGradients(net.params, [pass], [1 / N]);
        const { value, grads } = tf.variableGrads(() => nllLoss(net.forward(xt), yt), net.trainable);
        expect(sumNll(pass.logits.dataSync(), y.subarray(0, N), 10) / N).toBeCloseTo(value.dataSync()[0], 5);
        net.trainable.forEach((v, k) => expectClose(ours[net.trainableNames[k]], grads[v.name]));
        expectClose(mlpInputGradient(net.params, pass, 1 / N), inputGradient(net, xt, yt));
      });
      net.dispose();
    });

    it("AdvNet: two passes with scales mix/n and (1-mix)/n equal autodiff of mix L(x) + (1-mix) L(x')", () => {
      const net = new Net({ model: 'AdvNet' }, initWeights({ model: 'AdvNet' }, 4));
      tf.tidy(() => {
        const xt = tf.tensor2d(x.subarray(0, N * 784), [N, 784]);
        const xa = tf.tensor2d(x.subarray(N * 784, 2 * N * 784), [N, 784]);
        const yt = tf.tensor1d(y.subarray(0, N), 'int32');
        const ours = mlpGradients(net.params, [mlpForward(net.params, xt, yt), mlpForward(net.params, xa, yt)], [0.3 / N, 0.7 / N]);
        const { grads } = tf.variableGrads(
          () => tf.add(tf.mul(nllLoss(net.forward(xt), yt), 0.3), tf.mul(nllLoss(net.forward(xa), yt), 0.7)) as tf.Scalar, net.trainable);
        net.trainable.forEach((v, k) => expectClose(ours[net.trainableNames[k]], grads[v.name]));
      });
      net.dispose();
    });

    it('packed replicates: each replicate gets the gradient of its own mean loss', () => {
      const seeds = [1, 2, 3];
      const packed = new PackedNet({ model: 'NormalNet' }, seeds.map((s) => initWeights({ model: 'NormalNet' }, s)));
      const alone = seeds.map((s) => new Net({ model: 'NormalNet' }, initWeights({ model: 'NormalNet' }, s)));
      tf.tidy(() => {
        const xt = tf.tensor3d(x, [3, N, 784]);
        const yt = tf.tensor2d(y, [3, N], 'int32');
        const ours = mlpGradients(packed.params, [mlpForward(packed.params, xt, yt)], [1 / N]);
        alone.forEach((net, r) => {
          const xr = tf.tensor2d(x.subarray(r * N * 784, (r + 1) * N * 784), [N, 784]);
          const yr = tf.tensor1d(y.subarray(r * N, (r + 1) * N), 'int32');
          const { grads } = tf.variableGrads(() => nllLoss(net.forward(xr), yr), net.trainable);
          net.trainable.forEach((v, k) => {
            const g = ours[net.trainableNames[k]];
            const part = tf.reshape(tf.slice(g, [r, 0, 0].slice(0, g.rank), [1, ...g.shape.slice(1)]), v.shape);
            expectClose(part, grads[v.name]);
          });
        });
      });
      packed.dispose();
      alone.forEach((n) => n.dispose());
    });

    it('mlpTrainStep (AdvNet) leaves no tensors behind and reports the objective of its passes', () => {
      const net = new Net({ model: 'AdvNet' }, initWeights({ model: 'AdvNet' }, 5));
      const opt = new Adam(net.trainable, 1e-3);
      const xt = tf.tensor2d(x.subarray(0, N * 784), [N, 784]);
      const yt = tf.tensor1d(y.subarray(0, N), 'int32');
      mlpTrainStep(net.params, opt, net.trainableNames, xt, yt, { eps: 0.3, units: 'pixel', mix: 0.5 });
      const before = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) {
        const r = mlpTrainStep(net.params, opt, net.trainableNames, xt, yt, { eps: 0.3, units: 'pixel', mix: 0.5 });
        expect(r.clean.length).toBe(N);
        expect(r.adversarial!.length).toBe(N);
        expect(r.logits.length).toBe(N * 10);
        // The clean pass is the current model's: its reported losses are the loss of its logits.
        expect(sumNll(r.logits, y.subarray(0, N), 10)).toBeCloseTo(r.clean.reduce((s, v) => s + v, 0), 3);
      }
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([xt, yt]);
      opt.dispose();
      net.dispose();
    });
  });
}
