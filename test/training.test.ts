/**
 * Training (src/training), on real MNIST and the cpu backend: Adam against tfjs's
 * own tf.train.adam; the loss and what a trainer reports; each model's objective
 * from the models table, AdvNet's checked against a direct computation of
 * mix * L(x) + (1 - mix) * L(FGSM(x)); trainNet bit-identical for a fixed seed and
 * different for another; no tensor leaks across a job; the epoch and progress
 * hooks; and that training learns.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { fgsm } from '../src/attacks/fgsm.js';
import { resolveDataset } from '../src/data/registry.js';
import { loadShared, splitView, type SplitView } from '../src/data/shared.js';
import { CLASSES, type NetSpec, PIXELS } from '../src/experiments/models.js';
import { type BaseLayer, DEFAULT_TRAIN, type EpochReport, type EpsUnits, type TrainConfig } from '../src/experiments/types.js';
import { initWeights, Net, trainableNames } from '../src/paper/net.js';
import { Rng } from '../src/paper/rng.js';
import { drawGlance, type GlanceDraw } from '../src/paper/transforms.js';
import type { WeightSet } from '../src/paper/weights.js';
import { Adam } from '../src/training/adam.js';
import { advNetObjective } from '../src/training/advnet.js';
import { countHits, meanNll } from '../src/training/loss.js';
import { objectiveOf } from '../src/training/objective.js';
import { type TrainProgress, trainNet, trainStep } from '../src/training/train.js';

const NORMAL: NetSpec = { model: 'NormalNet' };
const ADV: NetSpec = { model: 'AdvNet' };
const glanceSpec = (baseLayer: BaseLayer): NetSpec => ({ model: 'GlanceAgain', baseLayer, resampling: 'bilinear' });
const GLANCE = glanceSpec('frozen');
const cfg = (limit: number, more: Partial<TrainConfig> = {}): TrainConfig => ({ ...DEFAULT_TRAIN, epochs: 1, limit, ...more });

let train: SplitView;
let test: SplitView;
/** NormalNet trained on 1,000 images (seed 1): GlanceAgain's base layer, and a model FGSM has something to attack in. */
let normal1k: WeightSet;

beforeAll(async () => {
  await tf.setBackend('cpu');
  const ds = loadShared(resolveDataset({ dataset: 'mnist' }));
  train = splitView(ds, 'train');
  test = splitView(ds, 'test');
  normal1k = trainNet(NORMAL, initWeights(NORMAL, 1), train, cfg(1000), 1).weights;
});

const bytesOf = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const sameBits = (a: Float32Array, b: Float32Array) => Buffer.compare(bytesOf(a), bytesOf(b)) === 0;
const maxAbs = (a: ArrayLike<number>) => Array.from(a).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  return Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
};
const labelsOf = (start: number, n: number) => test.labelsAt(Array.from({ length: n }, (_, i) => start + i));

function expectIdentical(a: WeightSet, b: WeightSet): void {
  expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
  for (const n of Object.keys(a)) {
    expect(a[n].shape, n).toEqual(b[n].shape);
    expect(sameBits(a[n].data, b[n].data), `${n} differs`).toBe(true);
  }
}

/** Held-out accuracy (%) and mean NLL on test images [0, n). */
function heldOut(spec: NetSpec, w: WeightSet, n: number, draw?: GlanceDraw): { accuracy: number; loss: number } {
  const net = new Net(spec, w);
  try {
    const labels = labelsOf(0, n);
    const [logits, loss] = tf.tidy(() => {
      const l = net.logits(tf.tensor2d(test.range(0, n), [n, PIXELS]), draw);
      return [l.dataSync() as Float32Array, meanNll(l, tf.tensor1d(labels, 'int32')).dataSync()[0]];
    });
    return { accuracy: (100 * countHits(logits, labels, CLASSES)) / n, loss };
  } finally {
    net.dispose();
  }
}

describe('Adam (src/training/adam.ts)', () => {
  const random = (rng: Rng, shape: number[]) =>
    tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.uniform(-1, 1)), shape);

  it('takes the same steps as tf.train.adam (5 steps, 3 weights of different shapes), and leaks nothing', () => {
    const rng = new Rng(9);
    const shapes = [[3, 4], [4], [2, 2, 2]];
    const init = shapes.map((s) => random(rng, s));
    const targets = shapes.map((s) => random(rng, s));
    const ours = init.map((t) => tf.variable(t.clone()));
    const theirs = init.map((t) => tf.variable(t.clone()));
    // A loss with different curvature per weight, so the moments differ between weights.
    const loss = (vs: tf.Variable[]) => () =>
      tf.addN(vs.map((v, k) => tf.sum(tf.mul(k + 1, tf.square(tf.sub(v, targets[k])))))) as tf.Scalar;
    const adam = new Adam(ours, 0.05);
    const reference = tf.train.adam(0.05);
    let before = 0;
    for (let step = 0; step < 5; step++) {
      const a = adam.minimize(loss(ours));
      const b = reference.minimize(loss(theirs), true, theirs)!;
      expect(Math.abs(a.dataSync()[0] - b.dataSync()[0])).toBeLessThan(1e-5 * Math.abs(b.dataSync()[0]));
      tf.dispose([a, b]);
      // After the first step (tf.train.adam makes its moments then, the reference kernel its constants): nothing more.
      if (step === 0) before = tf.memory().numTensors;
    }
    expect(tf.memory().numTensors).toBe(before);
    // Float32 rounding only: tfjs keeps the powers of beta as float32 tensors, we fold them in float64.
    ours.forEach((v, k) => expect(maxDiff(v.dataSync(), theirs[k].dataSync())).toBeLessThan(1e-5));
    // The weights moved: the comparison is not of untouched values.
    ours.forEach((v, k) => expect(maxDiff(v.dataSync(), init[k].dataSync())).toBeGreaterThan(0.05));
    adam.dispose();
    reference.dispose();
    tf.dispose([...init, ...targets, ...ours, ...theirs]);
  });

  it('a weight assigned between steps is stepped from its new value; a tensor read before a step keeps its values', () => {
    const w = tf.variable(tf.tensor1d([1, 2, 3, 4, 5]));
    const adam = new Adam([w], 0.1);
    const grad = () => [tf.tensor1d([1, -1, 1, -1, 1])];
    const held = w.clone();
    adam.step(grad());
    expect(Array.from(held.dataSync())).toEqual([1, 2, 3, 4, 5]);
    // Adam's first steps move each weight by about lr against the gradient's sign.
    Array.from(w.dataSync()).forEach((v, i) => expect(v).toBeCloseTo([0.9, 2.1, 2.9, 4.1, 4.9][i], 5));
    w.assign(tf.tensor1d([10, 20, 30, 40, 50]));
    adam.step(grad());
    Array.from(w.dataSync()).forEach((v, i) => expect(v).toBeCloseTo([9.9, 20.1, 29.9, 40.1, 49.9][i], 4));
    adam.dispose();
    tf.dispose([w, held]);
  });
});

describe('the loss and what a trainer reports (src/training/loss.ts)', () => {
  it('meanNll is the mean of -log softmax at the label; countHits counts argmax hits, the first on ties, as tf.argMax', () => {
    const rng = new Rng(5);
    const n = 24;
    const logits = Float32Array.from({ length: n * CLASSES }, () => Math.round(rng.uniform(-3, 3))); // integers: ties happen
    const labels = labelsOf(0, n);
    const [mean, hits] = tf.tidy(() => {
      const l = tf.tensor2d(logits, [n, CLASSES]);
      const y = tf.tensor1d(labels, 'int32');
      return [meanNll(l, y).dataSync()[0], tf.sum(tf.cast(tf.equal(tf.argMax(l, -1), y), 'int32')).dataSync()[0]];
    });
    let nll = 0;
    for (let i = 0; i < n; i++) {
      const row = Array.from(logits.subarray(i * CLASSES, (i + 1) * CLASSES));
      nll += Math.log(row.reduce((s, v) => s + Math.exp(v), 0)) - row[labels[i]];
    }
    expect(mean).toBeCloseTo(nll / n, 5);
    expect(countHits(logits, labels, CLASSES)).toBe(hits);
    expect(countHits([0, 2, 2, 1], [1, 2], 2)).toBe(1); // row 0: 2 > 0 -> 1 (hit); row 1: a tie -> 0 (miss)
  });
});

describe('objectives (src/training/objective.ts, advnet.ts)', () => {
  it('each model trains on the objective the models table names', () => {
    const adv = advNetObjective(DEFAULT_TRAIN);
    expect(objectiveOf(NORMAL, DEFAULT_TRAIN).prepare).toBeUndefined();
    expect(objectiveOf(GLANCE, DEFAULT_TRAIN).prepare).toBeUndefined();
    expect(objectiveOf(ADV, DEFAULT_TRAIN).prepare).toBeDefined();
    expect(typeof adv.prepare).toBe('function');
  });

  it('the clean objective: trainStep returns the mean NLL and the logits of the weights before the step, and moves every weight', () => {
    const n = 32;
    const net = new Net(NORMAL, normal1k);
    const adam = new Adam(net.trainable, 1e-3);
    const x = tf.tensor2d(test.range(0, n), [n, PIXELS]);
    const y = tf.tensor1d(labelsOf(0, n), 'int32');
    const [logits, loss] = tf.tidy(() => {
      const l = net.logits(x);
      return [l.dataSync().slice() as Float32Array, meanNll(l, y).dataSync()[0]];
    });
    const r = trainStep(net, adam, objectiveOf(NORMAL, DEFAULT_TRAIN), { x, y });
    expect(Array.from(r.logits)).toEqual(Array.from(logits));
    expect(r.loss).toBeCloseTo(loss, 6);
    const after = net.getWeights();
    for (const name of Object.keys(normal1k)) expect(sameBits(after[name].data, normal1k[name].data), name).toBe(false);
    adam.dispose();
    net.dispose();
    tf.dispose([x, y]);
  });

  it.each([
    ['pixel', 0.3, 0.5],
    ['normalized', 0.3, 0.3],
  ] as Array<[EpsUnits, number, number]>)(
    'AdvNet (%s units, eps %s, mix %s): one step minimises mix * L(x) + (1 - mix) * L(FGSM(x)), FGSM crafted on the weights before the step',
    (advUnits, advEps, advMix) => {
      const n = 32;
      const train1 = { ...DEFAULT_TRAIN, advEps, advUnits, advMix };
      const objective = objectiveOf(ADV, train1);
      const x = tf.tensor2d(test.range(100, 100 + n), [n, PIXELS]);
      const y = tf.tensor1d(labelsOf(100, n), 'int32');
      const ours = new Net(ADV, normal1k);
      const direct = new Net(ADV, normal1k);

      // The adversarial batch is FGSM against the current weights.
      const prepared = objective.prepare!(ours, { x, y });
      const byHand = tf.tidy(() => fgsm(direct, x, y, advEps, advUnits));
      expect(Array.from(prepared.dataSync())).toEqual(Array.from(byHand.dataSync()));
      expect(maxDiff(prepared.dataSync(), x.dataSync())).toBeGreaterThan(0.09);

      // Its value and gradients are those of the mixture, the adversarial batch a constant.
      const mixture = () => tf.add(tf.mul(meanNll(direct.logits(x), y), advMix), tf.mul(meanNll(direct.logits(byHand), y), 1 - advMix)) as tf.Scalar;
      const [value, grads, logits] = tf.tidy(() => {
        const g = tf.variableGrads(() => objective.loss(ours, { x, y }, prepared).loss, ours.trainable);
        const l = objective.loss(ours, { x, y }, prepared).logits;
        return [g.value.dataSync()[0], ours.trainable.map((v) => g.grads[v.name].dataSync().slice() as Float32Array), l.dataSync().slice()];
      });
      const [want, wantGrads, cleanLogits] = tf.tidy(() => {
        const g = tf.variableGrads(mixture, direct.trainable);
        return [g.value.dataSync()[0], direct.trainable.map((v) => g.grads[v.name].dataSync().slice() as Float32Array), direct.logits(x).dataSync().slice()];
      });
      expect(value).toBeCloseTo(want, 5);
      wantGrads.forEach((g, k) => {
        expect(maxAbs(g)).toBeGreaterThan(1e-4);
        expect(maxDiff(grads[k], g)).toBeLessThanOrEqual(1e-5 * (1 + maxAbs(g)));
      });
      // The reported logits are the clean batch's.
      expect(maxDiff(logits, cleanLogits)).toBeLessThan(1e-5);
      prepared.dispose();

      // A whole training step: the same Adam step as minimising the mixture directly.
      const adamOurs = new Adam(ours.trainable, 1e-3);
      const adamDirect = new Adam(direct.trainable, 1e-3);
      const r = trainStep(ours, adamOurs, objective, { x, y });
      const directLoss = tf.tidy(() => adamDirect.minimize(mixture).dataSync()[0]);
      expect(r.loss).toBeCloseTo(directLoss, 5);
      const [a, b] = [ours.getWeights(), direct.getWeights()];
      for (const name of Object.keys(a)) {
        expect(maxDiff(a[name].data, b[name].data), name).toBeLessThan(1e-6);
        expect(sameBits(a[name].data, normal1k[name].data), `${name} should have moved`).toBe(false);
      }
      adamOurs.dispose();
      adamDirect.dispose();
      ours.dispose();
      direct.dispose();
      tf.dispose([x, y, byHand]);
    },
  );
});

describe('trainNet: the same seed and config give bit-identical weights; another seed does not', () => {
  it('NormalNet; and training leaves the initial weights alone (on cpu a tensor made from a Float32Array shares it)', () => {
    const init = initWeights(NORMAL, 1);
    const a = trainNet(NORMAL, init, train, cfg(512), 1);
    expectIdentical(init, initWeights(NORMAL, 1));
    const b = trainNet(NORMAL, initWeights(NORMAL, 1), train, cfg(512), 1);
    expectIdentical(a.weights, b.weights);
    expect(a.history.map((h) => [h.loss, h.accuracy])).toEqual(b.history.map((h) => [h.loss, h.accuracy]));
    const other = trainNet(NORMAL, initWeights(NORMAL, 2), train, cfg(512), 2);
    expect(sameBits(other.weights['base.kernel'].data, a.weights['base.kernel'].data)).toBe(false);
    // Same init, another seed for shuffling only: the data order alone changes the result.
    const reshuffled = trainNet(NORMAL, initWeights(NORMAL, 1), train, cfg(512), 2);
    expect(sameBits(reshuffled.weights['out.kernel'].data, a.weights['out.kernel'].data)).toBe(false);
  });

  it('AdvNet, and it is not NormalNet: the same seed trains other weights', () => {
    const a = trainNet(ADV, initWeights(ADV, 1), train, cfg(256), 1);
    const b = trainNet(ADV, initWeights(ADV, 1), train, cfg(256), 1);
    expectIdentical(a.weights, b.weights);
    const other = trainNet(ADV, initWeights(ADV, 2), train, cfg(256), 2);
    expect(sameBits(other.weights['base.kernel'].data, a.weights['base.kernel'].data)).toBe(false);
    const clean = trainNet(NORMAL, initWeights(NORMAL, 1), train, cfg(256), 1);
    expect(sameBits(clean.weights['out.kernel'].data, a.weights['out.kernel'].data)).toBe(false);
  });

  it('GlanceAgain (frozen): the transform draws come from the seed too', () => {
    // Batches of 32, 32 and 8: a partial last batch.
    const c = cfg(72, { batchSize: 32 });
    const a = trainNet(GLANCE, initWeights(GLANCE, 1, normal1k), train, c, 1);
    const b = trainNet(GLANCE, initWeights(GLANCE, 1, normal1k), train, c, 1);
    expectIdentical(a.weights, b.weights);
    // Same init: only the transform draws (and the shuffle) differ with the training seed.
    const other = trainNet(GLANCE, initWeights(GLANCE, 1, normal1k), train, c, 2);
    expect(sameBits(other.weights['lstm1.input'].data, a.weights['lstm1.input'].data)).toBe(false);
  });
});

describe('no tensor leaks across a training job', () => {
  it.each([
    ['NormalNet', NORMAL, 200],
    ['AdvNet', ADV, 200],
    ['GlanceAgain frozen', GLANCE, 40],
    ['GlanceAgain fine-tune', glanceSpec('fine-tune'), 40],
  ] as Array<[string, NetSpec, number]>)('%s: trainNet, then a forward pass in tf.tidy', (_, spec, limit) => {
    const init = initWeights(spec, 1, normal1k);
    const before = tf.memory().numTensors;
    const r = trainNet(spec, init, train, cfg(limit, { batchSize: 32 }), 1);
    expect(tf.memory().numTensors).toBe(before);
    const net = new Net(spec, r.weights);
    const withNet = tf.memory().numTensors;
    expect(withNet - before).toBe(Object.keys(r.weights).length);
    tf.tidy(() => net.forward(tf.tensor2d(test.range(0, 8), [8, PIXELS]), net.draw(new Rng(1), 8)).dataSync());
    expect(tf.memory().numTensors).toBe(withNet);
    net.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('hooks', () => {
  it('reports every epoch: loss, accuracy, samples/s; progress every k batches', () => {
    const epochs: EpochReport[] = [];
    const progress: TrainProgress[] = [];
    const r = trainNet(NORMAL, initWeights(NORMAL, 6), train, cfg(1000, { epochs: 2 }), 6, {
      onEpoch: (e) => epochs.push(e),
      onProgress: (p) => progress.push(p),
      progressEvery: 5,
    });
    expect(epochs).toEqual(r.history);
    expect(epochs.map((e) => [e.epoch, e.epochs])).toEqual([[1, 2], [2, 2]]);
    for (const e of epochs) {
      expect(Number.isFinite(e.loss) && e.loss > 0).toBe(true);
      expect(e.accuracy).toBeGreaterThan(10);
      expect(e.accuracy).toBeLessThanOrEqual(100);
      expect(e.samplesPerSec).toBeGreaterThan(0);
      expect(e.seconds).toBeGreaterThan(0);
      expect(e.samplesPerSec * e.seconds).toBeCloseTo(1000, 3);
    }
    expect(epochs[1].loss).toBeLessThan(epochs[0].loss);
    expect(epochs[1].accuracy).toBeGreaterThan(epochs[0].accuracy);
    // 1,000 images at batch 64 = 16 batches: progress after batches 5, 10, 15 of each epoch.
    expect(progress.map((p) => [p.epoch, p.done])).toEqual([[1, 320], [1, 640], [1, 960], [2, 320], [2, 640], [2, 960]]);
    for (const p of progress) {
      expect(p.total).toBe(1000);
      expect(p.epochs).toBe(2);
      expect(p.samplesPerSec).toBeGreaterThan(0);
    }
  });
});

describe('training learns (held-out test images)', () => {
  // A numpy re-implementation (same init, Adam, batch 64) reaches 79-80% / NLL 0.86-0.88 on
  // 3,000 images and 84-86% / 0.53-0.63 on 6,000; 6,000 leaves room above 80%.
  it('NormalNet: 6,000 images, 1 epoch -> > 80% on 1,000 held-out images, loss down', () => {
    const init = initWeights(NORMAL, 4);
    const before = heldOut(NORMAL, init, 1000);
    const r = trainNet(NORMAL, init, train, cfg(6000), 4);
    const after = heldOut(NORMAL, r.weights, 1000);
    expect(before.loss).toBeGreaterThan(2);
    expect(after.loss).toBeLessThan(0.75);
    expect(after.accuracy).toBeGreaterThan(80);
  });

  it('AdvNet: 2,000 images, 1 epoch -> held-out loss down, accuracy well above chance', () => {
    const init = initWeights(ADV, 4);
    const before = heldOut(ADV, init, 500);
    const r = trainNet(ADV, init, train, cfg(2000), 4);
    const after = heldOut(ADV, r.weights, 500);
    expect(after.loss).toBeLessThan(before.loss - 0.2);
    expect(after.accuracy).toBeGreaterThan(50);
  });

  it('GlanceAgain (frozen): 192 images, 1 epoch at lr 3e-3 -> held-out loss down under a fixed evaluation draw', () => {
    const init = initWeights(GLANCE, 1, normal1k);
    const draw = drawGlance(new Rng(99), 128);
    const before = heldOut(GLANCE, init, 128, draw);
    const r = trainNet(GLANCE, init, train, cfg(192, { lr: 3e-3 }), 1);
    const after = heldOut(GLANCE, r.weights, 128, draw);
    expect(after.loss).toBeLessThan(before.loss - 0.05);
    // The frozen base is what it was: the trainable layers did the learning.
    expect(trainableNames(GLANCE, init).some((n) => n.startsWith('base.'))).toBe(false);
  });
});
