/**
 * Property tests of the attacks (as torchattacks tests its attacks): the
 * perturbation stays in the eps-ball and in [0,1] (pixel units), normalized units
 * step eps * 0.3081 unclipped, FGSM matches the analytic gradient of a model that
 * is linear where it is evaluated, and the attacks reduce to one another where
 * they should (EOT with one draw or a deterministic model = FGSM, PGD with one
 * step of size eps from x = FGSM); the signed-gradient step and the L-inf
 * projection that all of them share, on their own.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import { type AttackSpec, craft, resolveAttack } from '../src/attacks/attack.js';
import { MNIST_STD, pixelEps } from '../src/attacks/eps.js';
import { eotGradient, expectedGradient } from '../src/attacks/eot.js';
import { exactSign, fgsm, inputGradient, project, signStep } from '../src/attacks/fgsm.js';
import { batchRandom, sampleRandom } from '../src/attacks/random.js';
import { resolveDataset } from '../src/data/registry.js';
import { loadShared, splitView } from '../src/data/shared.js';
import { CLASSES, HIDDEN, PIXELS } from '../src/experiments/models.js';
import { type AttackName, DEFAULT_TRAIN, type EpsUnits } from '../src/experiments/types.js';
import { initWeights, Net } from '../src/paper/net.js';
import { Rng, Stream } from '../src/paper/rng.js';
import { drawGlance, fixedDraw } from '../src/paper/transforms.js';
import type { WeightSet } from '../src/paper/weights.js';
import { trainNet } from '../src/training/train.js';

const SEED = 7;
const N = 16;
let normal: Net;
let glance: Net;
let xs: Float32Array;
let ys: Int32Array;

beforeAll(async () => {
  await tf.setBackend('cpu');
  const ds = loadShared(resolveDataset({ dataset: 'mnist' }));
  const train = splitView(ds, 'train');
  const { weights } = trainNet({ model: 'NormalNet' }, initWeights({ model: 'NormalNet' }, SEED), train, { ...DEFAULT_TRAIN, epochs: 1, limit: 3000 }, SEED);
  normal = new Net({ model: 'NormalNet' }, weights);
  // Untrained apart from the frozen base layer: the properties hold for any weights.
  const spec = { model: 'GlanceAgain', baseLayer: 'frozen', resampling: 'bilinear' } as const;
  glance = new Net(spec, initWeights(spec, SEED, weights));
  const test = splitView(ds, 'test');
  xs = test.range(0, N);
  ys = Int32Array.from(test.labels.subarray(0, N));
});

afterAll(() => {
  normal?.dispose();
  glance?.dispose();
});

/** Runs craft on the test images and returns x' as a Float32Array, checking that no tensor leaks. */
function attack(net: Net, spec: AttackSpec, rng: Rng = new Rng(SEED, Stream.attack), x = xs, y = ys): Float32Array {
  const x0 = tf.tensor2d(x, [y.length, PIXELS]);
  const y0 = tf.tensor1d(y, 'int32');
  const before = tf.memory().numTensors;
  const adv = craft(net, x0, y0, spec, rng);
  expect(tf.memory().numTensors).toBe(before + 1);
  const out = adv.dataSync() as Float32Array;
  tf.dispose([adv, x0, y0]);
  return out.slice();
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const ATTACKED: AttackName[] = ['fgsm', 'fgsm-targeted', 'eot-fgsm', 'pgd', 'eot-pgd'];
const UNITS: EpsUnits[] = ['pixel', 'normalized'];
/** Cheap settings for GlanceAgain (every gradient runs the transforms in JS). */
const cheap = (net: Net): Partial<AttackSpec> => (net.randomized ? { steps: 3, eotSamples: 2 } : { steps: 10, eotSamples: 3 });

describe('every attack', () => {
  for (const model of ['NormalNet', 'GlanceAgain'] as const) {
    for (const name of ATTACKED) {
      for (const units of UNITS) {
        it(`${name} on ${model}, ${units} units: ||x' - x||_inf <= eps, and pixel units stay in [0,1]`, () => {
          const net = model === 'NormalNet' ? normal : glance;
          const eps = 0.3;
          const adv = attack(net, { name, eps, units, ...cheap(net) });
          const e = pixelEps(eps, units);
          expect(maxAbsDiff(adv, xs)).toBeLessThanOrEqual(e + 1e-6);
          // The attack does move the images.
          expect(maxAbsDiff(adv, xs)).toBeGreaterThan(e / 2);
          if (units === 'pixel') {
            expect(Math.min(...adv)).toBeGreaterThanOrEqual(0);
            expect(Math.max(...adv)).toBeLessThanOrEqual(1);
          }
        });
      }
    }
  }

  it('eps = 0 leaves the images unchanged', () => {
    for (const name of ATTACKED) {
      for (const units of UNITS) expect(maxAbsDiff(attack(normal, { name, eps: 0, units, steps: 3 }), xs)).toBe(0);
    }
  });

  it('normalized units: FGSM moves every pixel with a non-zero gradient by exactly eps * 0.3081, unclipped', () => {
    const eps = 0.3;
    const adv = attack(normal, { name: 'fgsm', eps, units: 'normalized' });
    // The attacks' default objective: cross-entropy with the stable gradient (loss.ts).
    const grad = tf.tidy(() => inputGradient(normal, tf.tensor2d(xs, [N, PIXELS]), tf.tensor1d(ys, 'int32'), undefined, { loss: 'ce', gradient: 'stable' }).dataSync());
    let negative = 0;
    for (let i = 0; i < xs.length; i++) {
      const expected = grad[i] === 0 ? 0 : Math.sign(grad[i]) * eps * MNIST_STD;
      expect(adv[i] - xs[i]).toBeCloseTo(expected, 6);
      if (adv[i] < 0) negative++;
    }
    // MNIST's black background is 0: pixels stepped down leave [0,1], as they must without clipping.
    expect(negative).toBeGreaterThan(0);
  });
});

describe('FGSM against the analytic gradient', () => {
  it('equals eps * sign(W (p - onehot(y))) on a network that is linear where it is evaluated', () => {
    // NormalNet with a hidden bias large enough that no ReLU is ever off on [0,1]^784:
    // the network is softmax regression with W = W1 W2, and grad_x NLL = W (p - onehot(y)) / n.
    const rng = new Rng(3);
    const w1 = new Float32Array(PIXELS * HIDDEN).map(() => rng.uniform(-0.005, 0.005));
    const b1 = new Float32Array(HIDDEN).fill(5);
    const w2 = new Float32Array(HIDDEN * CLASSES).map(() => rng.uniform(-0.5, 0.5));
    const b2 = new Float32Array(CLASSES).map(() => rng.uniform(-0.5, 0.5));
    const weights: WeightSet = {
      'base.kernel': { shape: [PIXELS, HIDDEN], data: w1 },
      'base.bias': { shape: [HIDDEN], data: b1 },
      'out.kernel': { shape: [HIDDEN, CLASSES], data: w2 },
      'out.bias': { shape: [CLASSES], data: b2 },
    };
    const linear = new Net({ model: 'NormalNet' }, weights);
    const n = 4;
    const x = new Float32Array(n * PIXELS).map(() => rng.next());
    const y = Int32Array.from([0, 3, 7, 9]);
    const eps = 0.1;
    try {
      const adv = attack(linear, { name: 'fgsm', eps, units: 'pixel' }, undefined, x, y);
      // W = W1 W2 [784, 10] and b = b1 W2 + b2, in float64.
      const W = new Float64Array(PIXELS * CLASSES);
      for (let p = 0; p < PIXELS; p++)
        for (let h = 0; h < HIDDEN; h++) for (let c = 0; c < CLASSES; c++) W[p * CLASSES + c] += w1[p * HIDDEN + h] * w2[h * CLASSES + c];
      const b = Float64Array.from(b2, (v, c) => v + b1.reduce((s, bh, h) => s + bh * w2[h * CLASSES + c], 0));
      let checked = 0;
      for (let i = 0; i < n; i++) {
        const z = Array.from(b, (bc, c) => bc + x.subarray(i * PIXELS, (i + 1) * PIXELS).reduce((s, xp, p) => s + xp * W[p * CLASSES + c], 0));
        const zmax = Math.max(...z);
        const ez = z.map((v) => Math.exp(v - zmax));
        const sum = ez.reduce((s, v) => s + v, 0);
        const d = ez.map((v, c) => v / sum - (c === y[i] ? 1 : 0));
        const g = Array.from({ length: PIXELS }, (_, p) => d.reduce((s, dc, c) => s + W[p * CLASSES + c] * dc, 0));
        const gmax = Math.max(...g.map(Math.abs));
        for (let p = 0; p < PIXELS; p++) {
          if (Math.abs(g[p]) < 1e-4 * gmax) continue; // a tie float32 may break either way
          const expected = Math.min(1, Math.max(0, x[i * PIXELS + p] + eps * Math.sign(g[p])));
          expect(adv[i * PIXELS + p]).toBeCloseTo(expected, 6);
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(0.99 * n * PIXELS);
    } finally {
      linear.dispose();
    }
  });
});

describe('reductions between the attacks', () => {
  it('EOT with K = 1 and a fixed draw equals single-draw FGSM with that draw', () => {
    const draw = fixedDraw(N, [10, -20, 5, 25], 1.3);
    const [viaEot, viaFgsm, g1, g0] = tf.tidy(() => {
      const x = tf.tensor2d(xs, [N, PIXELS]);
      const y = tf.tensor1d(ys, 'int32');
      // eotGradient is of the mean NLL, inputGradient of the summed NLL: the same direction.
      const g1 = eotGradient(glance, x, y, [draw]);
      const g0 = inputGradient(glance, x, y, draw);
      return [exactSign(g1).dataSync(), exactSign(g0).dataSync(), g1.dataSync(), tf.div(g0, N).dataSync()];
    });
    expect(Array.from(viaEot)).toEqual(Array.from(viaFgsm));
    const scale = Math.max(...Array.from(g0, Math.abs));
    expect(scale).toBeGreaterThan(0);
    for (let i = 0; i < g0.length; i++) expect(Math.abs(g1[i] - g0[i])).toBeLessThanOrEqual(1e-6 * scale);
    // Through craft, K = 1 draws from the generator exactly as FGSM does.
    const eot1 = attack(glance, { name: 'eot-fgsm', eps: 0.3, units: 'pixel', eotSamples: 1 }, new Rng(5));
    const single = attack(glance, { name: 'fgsm', eps: 0.3, units: 'pixel' }, new Rng(5));
    expect(maxAbsDiff(eot1, single)).toBe(0);
    const byHand = tf.tidy(() =>
      fgsm(glance, tf.tensor2d(xs, [N, PIXELS]), tf.tensor1d(ys, 'int32'), 0.3, 'pixel', { draw: drawGlance(new Rng(5), N) }).dataSync(),
    );
    expect(maxAbsDiff(single, byHand as Float32Array)).toBe(0);
  });

  it('EOT gradient with K draws is the mean over the K draws of the gradient of the mean NLL', () => {
    const draws = [0, 1, 2].map((k) => drawGlance(new Rng(11, k), N));
    const [eot, mean] = tf.tidy(() => {
      const x = tf.tensor2d(xs, [N, PIXELS]);
      const y = tf.tensor1d(ys, 'int32');
      // Chunks of 2 * N rows: the result must not depend on the chunking.
      const stacked = eotGradient(glance, x, y, draws, 2 * N);
      // inputGradient is of the summed NLL over the N samples.
      const byHand = tf.div(tf.addN(draws.map((d) => inputGradient(glance, x, y, d))), 3 * N);
      return [stacked.dataSync(), byHand.dataSync()];
    });
    const scale = Math.max(...Array.from(mean, Math.abs));
    for (let i = 0; i < eot.length; i++) expect(Math.abs(eot[i] - mean[i])).toBeLessThan(1e-4 * scale);
  });

  it('EOT on a deterministic model equals FGSM', () => {
    for (const units of UNITS) {
      const eot = attack(normal, { name: 'eot-fgsm', eps: 0.2, units, eotSamples: 4 });
      const single = attack(normal, { name: 'fgsm', eps: 0.2, units });
      expect(maxAbsDiff(eot, single)).toBe(0);
      const direct = tf.tidy(() => {
        const x = tf.tensor2d(xs, [N, PIXELS]);
        const grad = expectedGradient(normal, x, tf.tensor1d(ys, 'int32'), 4, batchRandom(new Rng(1), N));
        return signStep(x, grad, 0.2, units, false).dataSync();
      });
      expect(maxAbsDiff(direct as Float32Array, single)).toBe(0);
    }
  });

  it('PGD with 1 step of size eps and no random start equals FGSM', () => {
    for (const net of [normal, glance]) {
      for (const units of UNITS) {
        const one = { eps: 0.3, units, steps: 1, stepSize: 0.3, randomStart: false };
        const viaPgd = attack(net, { name: 'pgd', ...one }, new Rng(9));
        const viaFgsm = attack(net, { name: 'fgsm', eps: 0.3, units }, new Rng(9));
        expect(maxAbsDiff(viaPgd, viaFgsm)).toBeLessThan(1e-6);
      }
    }
  });

  it('PGD with a random start and a step larger than eps still projects every step onto the ball', () => {
    const adv = attack(normal, { name: 'pgd', eps: 0.1, units: 'pixel', steps: 3, stepSize: 0.5 });
    expect(maxAbsDiff(adv, xs)).toBeLessThanOrEqual(0.1 + 1e-6);
  });
});

describe('specs and randomness', () => {
  it('fills defaults: PGD 40 steps of 2.5 eps / steps from a random start, EOT K = 10, FGSM recorded as one step', () => {
    expect(resolveAttack({ name: 'pgd', eps: 0.3, units: 'pixel' })).toMatchObject({ steps: 40, randomStart: true, eotSamples: 1 });
    expect(resolveAttack({ name: 'pgd', eps: 0.3, units: 'pixel' }).stepSize).toBeCloseTo(0.01875, 12);
    expect(resolveAttack({ name: 'eot-pgd', eps: 0.3, units: 'pixel', eotSamples: 4 })).toMatchObject({ eotSamples: 4 });
    expect(resolveAttack({ name: 'eot-fgsm', eps: 0.3, units: 'pixel' })).toMatchObject({ eotSamples: 10, steps: 1 });
    expect(resolveAttack({ name: 'fgsm-targeted', eps: 0.3, units: 'pixel' })).toMatchObject({ targeted: true, target: 'next' });
    expect(resolveAttack({ name: 'none', eps: 0.3, units: 'pixel' })).toMatchObject({ eps: 0 });
    expect(() => resolveAttack({ name: 'pgd', eps: -1, units: 'pixel' })).toThrow(TypeError);
    expect(() => resolveAttack({ name: 'pgd', eps: 0.3, units: 'pixel', steps: 0 })).toThrow(/steps must be an integer >= 1/);
    expect(() => resolveAttack({ name: 'eot-fgsm', eps: 0.3, units: 'pixel', eotSamples: 1.5 })).toThrow(/eotSamples/);
    expect(() => resolveAttack({ name: 'fgsm', eps: 0.3, units: 'pixels' as EpsUnits })).toThrow(/units must be one of/);
  });

  it('per-sample randomness does not depend on the batch a sample is in', () => {
    const whole = sampleRandom(1, Stream.attack, 100, 8);
    const tail = sampleRandom(1, Stream.attack, 104, 4);
    expect(Array.from(whole.draw(glance)!.angles.subarray(16))).toEqual(Array.from(tail.draw(glance)!.angles));
    expect(Array.from(whole.uniform(3, -1, 1).subarray(12))).toEqual(Array.from(tail.uniform(3, -1, 1)));
    const y = Int32Array.from([0, 1, 2, 3, 4, 5, 6, 7]);
    const t = whole.otherLabels(y);
    expect(Array.from(t.subarray(4))).toEqual(Array.from(tail.otherLabels(y.subarray(4))));
    for (let i = 0; i < y.length; i++) expect(t[i]).not.toBe(y[i]);
    // A deterministic model consumes nothing.
    expect(batchRandom(new Rng(1), 4).draw(normal)).toBeUndefined();
  });
});

describe('signStep and project (fgsm.ts): the one signed-gradient step and the one L-inf projection', () => {
  const x = Float32Array.from([0, 0.05, 0.5, 0.95, 1, 0.5]);
  const g = Float32Array.from([-1, 2, 1e-30, 3, 1, 0]);
  const step = (units: EpsUnits, targeted: boolean) =>
    Array.from(tf.tidy(() => signStep(tf.tensor2d(x, [1, 6]), tf.tensor2d(g, [1, 6]), 0.1, units, targeted).dataSync()));
  const close = (a: number[], b: number[]) => a.forEach((v, i) => expect(v).toBeCloseTo(b[i], 6));

  it('steps eps up the gradient (down when targeted), clipped to [0,1] in pixel units; eps * 0.3081 unclipped in normalized units', () => {
    close(step('pixel', false), [0, 0.15, 0.6, 1, 1, 0.5]);
    close(step('pixel', true), [0.1, 0, 0.4, 0.85, 0.9, 0.5]);
    const e = 0.1 * MNIST_STD;
    close(step('normalized', false), [-e, 0.05 + e, 0.5 + e, 0.95 + e, 1 + e, 0.5]);
  });

  it('project: onto the eps-ball around the origin and, in pixel units, onto [0,1]; points inside stay; idempotent', () => {
    const origin = Float32Array.from([0, 0.5, 0.5, 1, 0.2, 0.7]);
    const adv = Float32Array.from([-0.3, 0.9, 0.45, 1.2, 0.25, 0.1]);
    const proj = (a: Float32Array, units: EpsUnits) =>
      Float32Array.from(tf.tidy(() => project(tf.tensor2d(a, [1, 6]), tf.tensor2d(origin, [1, 6]), 0.1, units).dataSync()));
    const p = proj(adv, 'pixel');
    close(Array.from(p), [0, 0.6, 0.45, 1, 0.25, 0.6]);
    expect(Array.from(proj(p, 'pixel'))).toEqual(Array.from(p));
    const e = 0.1 * MNIST_STD;
    close(Array.from(proj(adv, 'normalized')), [-e, 0.5 + e, 0.5 - e, 1 + e, 0.2 + e, 0.7 - e]);
  });
});

describe('exactSign', () => {
  it.each(['cpu', 'wasm'])('keeps the sign of gradients below float32 epsilon on %s (the wasm Sign kernel rounds them to 0)', async (backend) => {
    await tf.setBackend(backend);
    try {
      const v = [1e-3, 1e-7, 1e-12, 1e-30, 0, -1e-30, -1e-9, -2];
      expect(Array.from(tf.tidy(() => exactSign(tf.tensor1d(v)).dataSync()))).toEqual([1, 1, 1, 1, 0, -1, -1, -1]);
    } finally {
      await tf.setBackend('cpu');
    }
  });
});
