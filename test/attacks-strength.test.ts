/**
 * The stronger evaluation, on real MNIST (cpu backend): the exact attack gradient
 * against a float64 computation, the margin losses on hand-computed logits, PGD's
 * restarts, the 'noise' baseline, the Square attack (in the ball, deterministic
 * per sample, and finding what FGSM misses behind masked gradients), and the
 * per-example correctness that evaluate() reports with its counts.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { craft } from '../src/attacks/attack.js';
import { MNIST_STD } from '../src/attacks/eps.js';
import { evaluate } from '../src/attacks/evaluate.js';
import { inputGradient, signStep } from '../src/attacks/fgsm.js';
import { attackLoss } from '../src/attacks/loss.js';
import { sampleRandom } from '../src/attacks/random.js';
import { square, squareP, squareSide } from '../src/attacks/square.js';
import { resolveDataset } from '../src/data/registry.js';
import { loadShared, type SplitView, splitView } from '../src/data/shared.js';
import { countBits, encodeBits } from '../src/experiments/example-bits.js';
import { CLASSES, HIDDEN, PIXELS } from '../src/experiments/models.js';
import { type AttackGradient, DEFAULT_TRAIN, type EpsUnits } from '../src/experiments/types.js';
import { softmaxCrossEntropy } from '../src/ops/softmax-xent.js';
import { initWeights, Net } from '../src/paper/net.js';
import { Rng, Stream } from '../src/paper/rng.js';
import type { GlanceDraw } from '../src/paper/transforms.js';
import type { WeightSet } from '../src/paper/weights.js';
import { trainNet } from '../src/training/train.js';

const SEED = 11;
let weights: WeightSet;
let normal: Net;
let test: SplitView;

beforeAll(async () => {
  await tf.setBackend('cpu');
  const ds = loadShared(resolveDataset({ dataset: 'mnist' }));
  test = splitView(ds, 'test');
  ({ weights } = trainNet({ model: 'NormalNet' }, initWeights({ model: 'NormalNet' }, SEED), splitView(ds, 'train'), { ...DEFAULT_TRAIN, epochs: 1, limit: 4000 }, SEED));
  normal = new Net({ model: 'NormalNet' }, weights);
});

afterAll(() => normal?.dispose());

const batch = (start: number, end: number) => ({ x: test.range(start, end), y: Int32Array.from(test.labels.subarray(start, end)) });

/** NormalNet with its input quantised to steps of 1/8: tf.round's gradient is zero, so every input gradient is. */
class QuantisedNet extends Net {
  override logits(x: tf.Tensor2D, draw?: GlanceDraw): tf.Tensor2D {
    return super.logits(tf.div(tf.round(tf.mul(x, 8)), 8) as tf.Tensor2D, draw);
  }
}

describe('the exact attack gradient', () => {
  it('on a saturated example the stable input gradient matches float64 and the float32 one does not', () => {
    // A confident NormalNet: the output layer x 6 keeps every prediction and multiplies the logit gaps by 6.
    const scaled: WeightSet = { ...weights };
    for (const k of ['out.kernel', 'out.bias']) scaled[k] = { shape: weights[k].shape, data: weights[k].data.map((v) => 6 * v) };
    const net = new Net({ model: 'NormalNet' }, scaled);
    try {
      const { x, y } = batch(0, 100);
      // An image whose float32 p(label) is exactly 1 and is classified correctly.
      const p = tf.tidy(() => tf.softmax(net.logits(tf.tensor2d(x, [100, PIXELS]))).arraySync() as number[][]);
      const i = p.findIndex((row, k) => row[y[k]] === 1);
      expect(i).toBeGreaterThanOrEqual(0);
      const xi = x.subarray(i * PIXELS, (i + 1) * PIXELS);
      const grad = (gradient: AttackGradient) =>
        tf.tidy(() => inputGradient(net, tf.tensor2d(xi, [1, PIXELS]), tf.tensor1d([y[i]], 'int32'), undefined, { loss: 'ce', gradient }).dataSync().slice() as Float32Array);

      // float64 by hand: z = W2' relu(W1' x + b1) + b2, dNLL/dz = p - onehot with the label entry -sum_{j != y} p_j.
      const [w1, b1, w2, b2] = ['base.kernel', 'base.bias', 'out.kernel', 'out.bias'].map((k) => Float64Array.from(scaled[k].data));
      const pre = Array.from({ length: HIDDEN }, (_, h) => xi.reduce((s, v, q) => s + v * w1[q * HIDDEN + h], b1[h]));
      const z = Array.from({ length: CLASSES }, (_, c) => pre.reduce((s, v, h) => s + Math.max(v, 0) * w2[h * CLASSES + c], b2[c]));
      const zmax = Math.max(...z);
      const lse = zmax + Math.log(z.reduce((s, v) => s + Math.exp(v - zmax), 0));
      const dz = z.map((v) => Math.exp(v - lse));
      dz[y[i]] = -dz.reduce((s, v, c) => (c === y[i] ? s : s + v), 0);
      const dh = pre.map((v, h) => (v > 0 ? dz.reduce((s, d, c) => s + d * w2[h * CLASSES + c], 0) : 0));
      const exact = Array.from({ length: PIXELS }, (_, q) => dh.reduce((s, d, h) => s + d * w1[q * HIDDEN + h], 0));

      const scale = Math.max(...exact.map(Math.abs));
      expect(scale).toBeGreaterThan(0);
      const relError = (g: Float32Array) => Math.max(...exact.map((e, q) => Math.abs(g[q] - e))) / scale;
      const signErrors = (g: Float32Array) => exact.filter((e, q) => Math.abs(e) > 1e-3 * scale && Math.sign(g[q]) !== Math.sign(e)).length;
      const stable = grad('stable');
      const float32 = grad('float32');
      expect(relError(stable)).toBeLessThan(1e-3);
      expect(signErrors(stable)).toBe(0);
      expect(relError(float32)).toBeGreaterThan(0.1);
      expect(signErrors(float32)).toBeGreaterThan(0);
    } finally {
      net.dispose();
    }
  });

  it("'float32' is the training op's gradient bit for bit: FGSM as it was computed before the option", () => {
    const { x, y } = batch(0, 64);
    const [viaOption, byHand] = tf.tidy(() => {
      const xt = tf.tensor2d(x, [64, PIXELS]);
      const yt = tf.tensor1d(y, 'int32');
      const old = tf.grad((xi: tf.Tensor) => tf.sum(softmaxCrossEntropy(normal.logits(xi as tf.Tensor2D), yt)))(xt) as tf.Tensor2D;
      return [craft(normal, xt, yt, { name: 'fgsm', eps: 0.2, units: 'pixel', gradient: 'float32' }, new Rng(1)), signStep(xt, old, 0.2, 'pixel', false)];
    });
    expect(Array.from(viaOption.dataSync())).toEqual(Array.from(byHand.dataSync()));
    tf.dispose([viaOption, byHand]);
  });

  it('the losses on hand-computed logits: CE, Carlini-Wagner margin, DLR', () => {
    const z = [[1, 3, 2, 0.5]];
    const [ce, cw, dlr, ceGrad] = tf.tidy(() => {
      const logits = tf.tensor2d(z);
      const y = tf.tensor1d([0], 'int32');
      const g = tf.grad((l: tf.Tensor) => tf.sum(attackLoss(l as tf.Tensor2D, y, { loss: 'ce', gradient: 'stable' })))(logits);
      return [
        attackLoss(logits, y, { loss: 'ce', gradient: 'stable' }).arraySync(),
        attackLoss(logits, y, { loss: 'cw', gradient: 'stable' }).arraySync(),
        attackLoss(logits, y, { loss: 'dlr', gradient: 'stable' }).arraySync(),
        g.arraySync(),
      ] as [number[], number[], number[], number[][]];
    });
    const e = z[0].map(Math.exp);
    const sum = e.reduce((s, v) => s + v, 0);
    expect(ce[0]).toBeCloseTo(-Math.log(e[0] / sum), 5);
    expect(cw[0]).toBeCloseTo(3 - 1, 6); // max_{j != y} z_j - z_y
    expect(dlr[0]).toBeCloseTo(-(1 - 3) / (3 - 1), 6); // -(z_y - max other) / (z_pi1 - z_pi3)
    ceGrad[0].forEach((g, c) => expect(g).toBeCloseTo(e[c] / sum - (c === 0 ? 1 : 0), 6));
  });
});

describe('PGD restarts and margin losses', () => {
  it('more restarts never leave more examples robust, and every loss stays in the eps-ball', () => {
    const opts = { target: normal, view: test, start: 0, end: 200, seed: SEED };
    const pgd = { name: 'pgd' as const, eps: 0.1, units: 'pixel' as const, steps: 5 };
    const [one, three, cw, dlr] = evaluate({ ...opts, attacks: [pgd, { ...pgd, restarts: 3 }, { ...pgd, loss: 'cw' }, { ...pgd, loss: 'dlr' }] });
    expect(three.correct).toBeLessThanOrEqual(one.correct);
    // Restart 0 is the single run: what falls to it falls to the three.
    for (let k = 0; k < 200; k++) expect(three.correctFlags[k]).toBeLessThanOrEqual(one.correctFlags[k]);
    expect(three.spec).toMatchObject({ restarts: 3, loss: 'ce', gradient: 'stable' });
    for (const r of [cw, dlr]) expect(r.correct).toBeLessThan(r.total * 0.9);
    // Restart 1 attacks only the survivors of restart 0, with the same outcome as attacking the whole batch.
    const [two] = evaluate({ ...opts, end: 100, batchSize: 100, attacks: [{ ...pgd, restarts: 2 }] });
    const { x: x100, y: y100 } = batch(0, 100);
    const second = tf.tidy(() => {
      const adv = craft(normal, tf.tensor2d(x100, [100, PIXELS]), tf.tensor1d(y100, 'int32'), pgd, sampleRandom(SEED, Stream.attack, 0, 100, 1));
      return tf.argMax(normal.logits(adv), 1).dataSync();
    });
    const both = Array.from(second, (p, k) => (p === y100[k] ? one.correctFlags[k] : 0));
    expect([...two.correctFlags]).toEqual(both);
    const { x, y } = batch(0, 16);
    for (const loss of ['cw', 'dlr'] as const) {
      const adv = tf.tidy(() => craft(normal, tf.tensor2d(x, [16, PIXELS]), tf.tensor1d(y, 'int32'), { ...pgd, loss }, new Rng(2)).dataSync().slice());
      expect(Math.max(...adv.map((v, q) => Math.abs(v - x[q])))).toBeLessThanOrEqual(0.1 + 1e-6);
      expect(Math.min(...adv)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...adv)).toBeLessThanOrEqual(1);
    }
  });
});

describe('per-example correctness', () => {
  it('the flags count what the count counts, and shards concatenate to the whole slice', () => {
    const attacks = [
      { name: 'none' as const, eps: 0, units: 'pixel' as const },
      { name: 'fgsm' as const, eps: 0.1, units: 'pixel' as const },
      { name: 'noise' as const, eps: 0.3, units: 'pixel' as const },
      { name: 'pgd' as const, eps: 0.1, units: 'pixel' as const, steps: 3, restarts: 2 },
      { name: 'square' as const, eps: 0.2, units: 'pixel' as const, queries: 20 },
    ];
    const opts = { target: normal, view: test, seed: SEED, batchSize: 40, attacks };
    const whole = evaluate({ ...opts, start: 0, end: 100 });
    const parts = [evaluate({ ...opts, start: 0, end: 37 }), evaluate({ ...opts, start: 37, end: 100 })];
    whole.forEach((row, i) => {
      expect(row.correctFlags.length).toBe(100);
      expect(countBits(encodeBits(row.correctFlags), row.total)).toBe(row.correct);
      expect([...parts[0][i].correctFlags, ...parts[1][i].correctFlags]).toEqual([...row.correctFlags]);
    });
  });
});

describe('noise', () => {
  it('moves every pixel by eps with a fair sign, per sample, and hurts less than FGSM', () => {
    const { x, y } = batch(0, 8);
    const make = (units: EpsUnits, start = 0, n = 8) =>
      tf.tidy(() => craft(normal, tf.tensor2d(x.subarray(start * PIXELS, (start + n) * PIXELS), [n, PIXELS]), tf.tensor1d(y.subarray(start, start + n), 'int32'), { name: 'noise', eps: 0.25, units }, sampleRandom(SEED, Stream.attack, start, n)).dataSync().slice());
    const normalized = make('normalized');
    let up = 0;
    normalized.forEach((v, q) => {
      expect(Math.abs(Math.abs(v - x[q]) - 0.25 * MNIST_STD)).toBeLessThan(1e-6);
      if (v > x[q]) up++;
    });
    expect(up / normalized.length).toBeGreaterThan(0.45);
    expect(up / normalized.length).toBeLessThan(0.55);
    // Sample 5's signs do not depend on the batch it is in.
    expect(make('pixel', 5, 3).slice(0, PIXELS)).toEqual(make('pixel').slice(5 * PIXELS, 6 * PIXELS));
    const [noise, fgsm] = evaluate({ target: normal, view: test, start: 0, end: 300, seed: SEED, attacks: [{ name: 'noise', eps: 0.2, units: 'pixel' }, { name: 'fgsm', eps: 0.2, units: 'pixel' }] });
    expect(noise.correct).toBeGreaterThan(fgsm.correct);
  });
});

describe('Square', () => {
  it('follows the published schedule of p', () => {
    expect([0, 10, 11, 50, 51, 200, 201].map((t) => squareP(t, 10000))).toEqual([0.8, 0.8, 0.4, 0.4, 0.2, 0.2, 0.1]);
    expect(squareP(9999, 10000)).toBeCloseTo(0.8 / 512, 12);
    // Rescaled to the budget: iteration 2 of 1000 is iteration 20 of 10000.
    expect(squareP(2, 1000)).toBe(0.4);
    expect(squareSide(0, 1000)).toBe(25); // round(sqrt(0.8 * 784))
    expect(squareSide(999, 1000)).toBe(1);
  });

  it('never leaves the eps-ball or [0, 1], and is deterministic per sample', () => {
    const { x, y } = batch(0, 12);
    const run = (units: EpsUnits, start: number, n: number) =>
      tf.tidy(() =>
        square(normal, tf.tensor2d(x.subarray(start * PIXELS, (start + n) * PIXELS), [n, PIXELS]), y.subarray(start, start + n), { eps: 0.2, units, queries: 60, eotSamples: 1 }, sampleRandom(SEED, Stream.attack, start, n))
          .dataSync()
          .slice(),
      );
    for (const units of ['pixel', 'normalized'] as const) {
      const adv = run(units, 0, 12);
      const e = units === 'pixel' ? 0.2 : 0.2 * MNIST_STD;
      expect(Math.max(...adv.map((v, q) => Math.abs(v - x[q])))).toBeLessThanOrEqual(e + 1e-6);
      if (units === 'pixel') {
        expect(Math.min(...adv)).toBeGreaterThanOrEqual(0);
        expect(Math.max(...adv)).toBeLessThanOrEqual(1);
      }
      expect(run(units, 4, 8)).toEqual(adv.slice(4 * PIXELS));
    }
  });

  it('behind masked gradients it finds adversarial examples that FGSM misses', () => {
    const masked = new QuantisedNet({ model: 'NormalNet' }, weights);
    try {
      const opts = { target: masked, view: test, start: 0, end: 100, seed: SEED };
      const [clean, fgsm, pgd, sq] = evaluate({
        ...opts,
        attacks: [
          { name: 'none', eps: 0, units: 'pixel' },
          { name: 'fgsm', eps: 0.3, units: 'pixel' },
          { name: 'pgd', eps: 0.3, units: 'pixel', steps: 10, randomStart: false },
          { name: 'square', eps: 0.3, units: 'pixel', queries: 300 },
        ],
      });
      // The gradient is zero: the gradient attacks do not move the images.
      expect(fgsm.correct).toBe(clean.correct);
      expect(pgd.correct).toBe(clean.correct);
      expect(clean.correct).toBeGreaterThan(70);
      expect(sq.correct).toBeLessThan(clean.correct / 2);
    } finally {
      masked.dispose();
    }
  });
});
