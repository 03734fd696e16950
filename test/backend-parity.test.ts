/**
 * Backend parity of the whole models: for every model, node (when built) and wasm,
 * each with our kernels installed, agree with cpu on real MNIST images on the
 * forward pass, the loss gradient with respect to the input and to the weights,
 * one FGSM step, and one whole training step (the model's objective from the
 * models table, AdvNet's FGSM batch included, and one Adam step); and our Adam
 * takes tf.train.adam's steps on every backend. test/ops-parity.test.ts holds
 * each kernel to its reference; this file checks the models built from them.
 *
 * Tolerances (float32 everywhere, different summation orders per backend):
 *  - log-probabilities, the step's loss and weights after the step: max |a - b| < 1e-4;
 *  - gradients: max |a - b| < 1e-4 * (1 + max |gradient|);
 *  - FGSM: the same adversarial pixel everywhere except where the input gradient
 *    is within float noise of 0 (|g| < 1e-6 * max |g|), where the sign may differ.
 *    AdvNet trains on its FGSM batch, so a row of base.kernel whose pixel is such a
 *    pixel may take another step.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fgsm, inputGradient } from '../src/attacks/fgsm.js';
import { installNodeKernels } from '../src/backend/node/kernels.js';
import { installWasmKernels } from '../src/backend/wasm/install.js';
import { HIDDEN, type NetSpec, PIXELS } from '../src/experiments/models.js';
import { DEFAULT_TRAIN } from '../src/experiments/types.js';
import { initWeights, Net } from '../src/paper/net.js';
import { Rng } from '../src/paper/rng.js';
import { fixedDraw } from '../src/paper/transforms.js';
import { Adam } from '../src/training/adam.js';
import { meanNll } from '../src/training/loss.js';
import { objectiveOf } from '../src/training/objective.js';
import { trainStep } from '../src/training/train.js';
import { mnistTestSample } from './fixtures/mnist-sample.js';
import { nativeStatus } from './fixtures/native-status.js';

const native = nativeStatus();
const N = 16;
let x: Float32Array;
let y: Int32Array;

beforeAll(async () => {
  ({ x, y } = mnistTestSample(N, 37));
  await tf.setBackend('wasm');
  installWasmKernels();
  if (native.built) {
    await import('@tensorflow/tfjs-node');
    installNodeKernels();
  }
  await tf.setBackend('cpu');
});

afterAll(async () => {
  await tf.setBackend('cpu');
});

interface Outputs {
  logp: Float32Array;
  gradX: Float32Array;
  gradW: Float32Array[];
  adv: Float32Array;
  stepLoss: number;
  stepLogits: Float32Array;
  /** Every weight after one training step, in the order of net.trainable. */
  stepped: Float32Array[];
  names: string[];
}

async function runOn(backend: string, spec: NetSpec): Promise<Outputs> {
  await tf.setBackend(backend);
  const normal = initWeights({ model: 'NormalNet' }, 1);
  const net = new Net(spec, initWeights(spec, 1, normal));
  const draw = spec.model === 'GlanceAgain' ? fixedDraw(N, [12, -7, 25, -18], 1.3) : undefined;
  const xt = tf.tensor2d(x, [N, PIXELS]);
  const yt = tf.tensor1d(y, 'int32');
  try {
    const out = tf.tidy(() => {
      const logp = net.forward(xt, draw).dataSync().slice() as Float32Array;
      const gradX = inputGradient(net, xt, yt, draw).dataSync().slice() as Float32Array;
      const { grads } = tf.variableGrads(() => meanNll(net.logits(xt, draw), yt), net.trainable);
      const gradW = net.trainable.map((v) => grads[v.name].dataSync().slice() as Float32Array);
      const adv = fgsm(net, xt, yt, 0.3, 'pixel', { draw }).dataSync().slice() as Float32Array;
      return { logp, gradX, gradW, adv };
    });
    const names = Object.keys(net.params).filter((n) => net.trainable.includes(net.params[n] as tf.Variable));
    const adam = new Adam(net.trainable, 1e-3);
    const step = trainStep(net, adam, objectiveOf(spec, DEFAULT_TRAIN), { x: xt, y: yt, draw });
    adam.dispose();
    const stepped = net.trainable.map((v) => v.dataSync().slice() as Float32Array);
    return { ...out, stepLoss: step.loss, stepLogits: step.logits, stepped, names };
  } finally {
    tf.dispose([xt, yt]);
    net.dispose();
  }
}

const maxAbs = (a: Float32Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const maxDiff = (a: Float32Array, b: Float32Array, skip?: (i: number) => boolean) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) if (!skip?.(i)) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

function expectParity(spec: NetSpec, ref: Outputs, other: Outputs): void {
  expect(other.names).toEqual(ref.names);
  expect(maxDiff(ref.logp, other.logp)).toBeLessThan(1e-4);
  expect(maxDiff(ref.gradX, other.gradX)).toBeLessThan(1e-4 * (1 + maxAbs(ref.gradX)));
  ref.gradW.forEach((g, i) => expect(maxDiff(g, other.gradW[i]), ref.names[i]).toBeLessThan(1e-4 * (1 + maxAbs(g))));
  const noise = 1e-6 * maxAbs(ref.gradX);
  const flipped = new Set<number>();
  for (let i = 0; i < ref.adv.length; i++) {
    if (ref.adv[i] !== other.adv[i]) {
      expect(Math.abs(ref.gradX[i])).toBeLessThan(noise);
      flipped.add(i % PIXELS);
    }
  }
  // The training step: its loss, the clean logits it reports, and the weights it leaves.
  expect(Math.abs(ref.stepLoss - other.stepLoss)).toBeLessThan(1e-4);
  expect(maxDiff(ref.stepLogits, other.stepLogits)).toBeLessThan(1e-4);
  ref.stepped.forEach((w, i) => {
    const skip = spec.model === 'AdvNet' && ref.names[i] === 'base.kernel' ? (k: number) => flipped.has(Math.floor(k / HIDDEN)) : undefined;
    expect(maxDiff(w, other.stepped[i], skip), `${ref.names[i]} after the step`).toBeLessThan(1e-4);
  });
}

const specs: Array<[string, NetSpec]> = [
  ['NormalNet', { model: 'NormalNet' }],
  ['AdvNet', { model: 'AdvNet' }],
  ['GlanceAgain (frozen base)', { model: 'GlanceAgain', baseLayer: 'frozen', resampling: 'bilinear' }],
  ['GlanceAgain (fine-tune, nearest)', { model: 'GlanceAgain', baseLayer: 'fine-tune', resampling: 'nearest' }],
];

describe('backend parity of the models: wasm and node against cpu', () => {
  for (const [label, spec] of specs) {
    it(`${label}: wasm agrees with cpu`, async () => {
      expectParity(spec, await runOn('cpu', spec), await runOn('wasm', spec));
    });
    it.skipIf(!native.built)(`${label}: node agrees with cpu`, async () => {
      expectParity(spec, await runOn('cpu', spec), await runOn('tensorflow', spec));
    });
  }
});

describe('Adam on every backend', () => {
  const backends = ['cpu', 'wasm', ...(native.built ? ['tensorflow'] : [])];
  const random = (rng: Rng, shape: number[]) =>
    tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.uniform(-1, 1)), shape);

  it.each(backends)('%s: the same steps as tf.train.adam (5 steps; sizes 4k and 4k+1..3), no leaks; a tensor read before a step keeps its values', async (backend) => {
    await tf.setBackend(backend);
    const rng = new Rng(9);
    const shapes = [[5, 8], [3], [7, 1, 2], [257]];
    const init = shapes.map((s) => random(rng, s));
    const targets = shapes.map((s) => random(rng, s));
    const ours = init.map((t) => tf.variable(t.clone()));
    const theirs = init.map((t) => tf.variable(t.clone()));
    const loss = (vs: tf.Variable[]) => () =>
      tf.addN(vs.map((v, k) => tf.sum(tf.mul(k + 1, tf.square(tf.sub(v, targets[k])))))) as tf.Scalar;
    const adam = new Adam(ours, 0.05);
    const reference = tf.train.adam(0.05);
    const held = ours.map((v) => v.clone());
    let before = 0;
    for (let step = 0; step < 5; step++) {
      tf.dispose([adam.minimize(loss(ours)), reference.minimize(loss(theirs), true, theirs)!]);
      // After the first step (tf.train.adam makes its moments then, the reference kernel its constants): nothing more.
      if (step === 0) before = tf.memory().numTensors;
    }
    expect(tf.memory().numTensors).toBe(before);
    ours.forEach((v, k) => {
      expect(maxDiff(v.dataSync() as Float32Array, theirs[k].dataSync() as Float32Array)).toBeLessThan(1e-5);
      expect(maxDiff(v.dataSync() as Float32Array, init[k].dataSync() as Float32Array)).toBeGreaterThan(0.05);
      expect(Array.from(held[k].dataSync())).toEqual(Array.from(init[k].dataSync()));
    });
    adam.dispose();
    reference.dispose();
    tf.dispose([...init, ...targets, ...ours, ...theirs, ...held]);
  });
});
