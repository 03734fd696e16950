/**
 * Backend parity: for every model, node (when built), wasm and cpu agree on the
 * forward pass, the loss gradient with respect to the input and to the weights,
 * one Adam step and one FGSM step, on real MNIST images.
 *
 * Tolerances (float32 everywhere, different summation orders per backend):
 *  - log-probabilities and weights after an Adam step: max |a - b| < 1e-4;
 *  - gradients: max |a - b| < 1e-4 * (1 + max |gradient|);
 *  - FGSM: the same adversarial pixel everywhere except where the input gradient
 *    is within float noise of 0 (|g| < 1e-6 * max |g|), where the sign may differ.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { installWasmMatMulFix } from '../src/backend/wasm-matmul.js';
import type { ModelName } from '../src/experiments/types.js';
import { fgsm, inputGradient } from '../src/attacks/fgsm.js';
import { initWeights, Net, nllLoss, type NetSpec } from '../src/models/net.js';
import { fixedDraw } from '../src/models/transforms.js';
import { lstmLayer, lstmLayerOps } from '../src/models/lstm.js';
import { Rng } from '../src/models/rng.js';
import { mnistTestSample } from './fixtures/mnist-sample.js';
import { nativeStatus } from './fixtures/native-status.js';

const native = nativeStatus();
const N = 16;
let x: Float32Array;
let y: Int32Array;

beforeAll(async () => {
  ({ x, y } = mnistTestSample(N, 37));
  await tf.setBackend('wasm');
  installWasmMatMulFix();
  if (native.built) await import('@tensorflow/tfjs-node');
});

interface Outputs {
  logp: Float32Array;
  gradX: Float32Array;
  gradW: Float32Array[];
  adam: Float32Array[];
  adv: Float32Array;
}

async function runOn(backend: string, spec: NetSpec): Promise<Outputs> {
  await tf.setBackend(backend);
  const normal = initWeights({ model: 'NormalNet' }, 1);
  const net = new Net(spec, initWeights(spec, 1, normal));
  const draw = spec.model === 'GlanceAgain' ? fixedDraw(N, [12, -7, 25, -18], 1.3) : undefined;
  try {
    const out = tf.tidy(() => {
      const xt = tf.tensor2d(x, [N, 784]);
      const yt = tf.tensor1d(y, 'int32');
      const logp = net.forward(xt, draw).dataSync().slice() as Float32Array;
      const gradX = inputGradient(net, xt, yt, draw).dataSync().slice() as Float32Array;
      const { grads } = tf.variableGrads(() => nllLoss(net.forward(xt, draw), yt), net.trainable);
      const gradW = net.trainable.map((v) => grads[v.name].dataSync().slice() as Float32Array);
      const adv = fgsm(net, xt, yt, 0.3, 'pixel', { draw }).dataSync().slice() as Float32Array;
      return { logp, gradX, gradW, adv };
    });
    const opt = tf.train.adam(1e-3);
    tf.tidy(() => {
      const xt = tf.tensor2d(x, [N, 784]);
      const yt = tf.tensor1d(y, 'int32');
      opt.minimize(() => nllLoss(net.forward(xt, draw), yt), false, net.trainable);
    });
    const adam = net.trainable.map((v) => v.dataSync().slice() as Float32Array);
    opt.dispose();
    return { ...out, adam };
  } finally {
    net.dispose();
  }
}

const maxAbs = (a: Float32Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const maxDiff = (a: Float32Array, b: Float32Array) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

function expectParity(ref: Outputs, other: Outputs): void {
  expect(maxDiff(ref.logp, other.logp)).toBeLessThan(1e-4);
  expect(maxDiff(ref.gradX, other.gradX)).toBeLessThan(1e-4 * (1 + maxAbs(ref.gradX)));
  ref.gradW.forEach((g, i) => expect(maxDiff(g, other.gradW[i])).toBeLessThan(1e-4 * (1 + maxAbs(g))));
  ref.adam.forEach((w, i) => expect(maxDiff(w, other.adam[i])).toBeLessThan(1e-4));
  const noise = 1e-6 * maxAbs(ref.gradX);
  for (let i = 0; i < ref.adv.length; i++) {
    if (ref.adv[i] !== other.adv[i]) expect(Math.abs(ref.gradX[i])).toBeLessThan(noise);
  }
}

const specs: Array<[string, NetSpec]> = [
  ['NormalNet', { model: 'NormalNet' }],
  ['AdvNet', { model: 'AdvNet' as ModelName }],
  ['GlanceAgain (frozen base)', { model: 'GlanceAgain', baseLayer: 'frozen' }],
  ['GlanceAgain (fine-tune, nearest)', { model: 'GlanceAgain', baseLayer: 'fine-tune', resampling: 'nearest' }],
];

describe('backend parity: wasm and node against cpu', () => {
  for (const [label, spec] of specs) {
    it(`${label}: wasm agrees with cpu`, async () => {
      expectParity(await runOn('cpu', spec), await runOn('wasm', spec));
    });
    it.skipIf(!native.built)(`${label}: node agrees with cpu`, async () => {
      expectParity(await runOn('cpu', spec), await runOn('tensorflow', spec));
    });
  }
});

describe('node: the fused TensorFlow LSTM kernels (BlockLSTMV2 and its gradient)', () => {
  const cases: Array<{ steps: number; lead: number[] }> = [{ steps: 6, lead: [] }, { steps: 1, lead: [] }, { steps: 6, lead: [3] }];
  for (const { steps, lead } of cases) {
    const what = lead.length ? `${lead[0]} packed replicates, ${steps} steps` : `${steps} step(s)`;
    it.skipIf(!native.built)(`equal the tfjs-op LSTM in value and all four gradients (${what})`, async () => {
      await tf.setBackend('tensorflow');
      const rng = new Rng(3);
      const rand = (shape: number[], scale: number) =>
        tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.uniform(-scale, scale)), shape);
      const [n, inSize, units] = [5, 9, 4];
      const inputs = [
        rand([...lead, n, steps, inSize], 1.5), rand([...lead, inSize, 4 * units], 0.8), rand([...lead, units, 4 * units], 0.8),
        rand(lead.length ? [...lead, 1, 4 * units] : [4 * units], 0.5),
      ];
      const weights = rand([...lead, n, steps, units], 1);
      const loss = (impl: typeof lstmLayer) => (x: tf.Tensor, w: tf.Tensor, u: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.mul(impl(x as tf.Tensor3D, { inputKernel: w, recurrentKernel: u, bias: b }), weights));
      // The first call makes the layer's int64 sequence length, kept for later calls (native-lstm.ts).
      tf.tidy(() => { lstmLayer(inputs[0] as tf.Tensor3D, { inputKernel: inputs[1], recurrentKernel: inputs[2], bias: inputs[3] }); });
      const before = tf.memory().numTensors;
      const [nativeGrads, opGrads] = [lstmLayer, lstmLayerOps].map((impl) => tf.grads(loss(impl))(inputs));
      const values = [lstmLayer, lstmLayerOps].map((impl) =>
        tf.tidy(() => impl(inputs[0] as tf.Tensor3D, { inputKernel: inputs[1], recurrentKernel: inputs[2], bias: inputs[3] }).dataSync().slice() as Float32Array));
      expect(maxDiff(values[0], values[1])).toBeLessThan(1e-6);
      nativeGrads.forEach((g, k) => {
        const ref = opGrads[k].dataSync() as Float32Array;
        expect(maxDiff(g.dataSync() as Float32Array, ref)).toBeLessThan(1e-5 * (1 + maxAbs(ref)));
      });
      tf.dispose([...nativeGrads, ...opGrads]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([...inputs, weights]);
    });
  }
});
