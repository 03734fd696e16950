/**
 * evaluate(): counts under attack on a slice of the test split, on the cpu backend.
 * Shards add up to the whole slice exactly (on wasm, and on node when built),
 * the same seed gives the same counts, eps = 0 is clean
 * accuracy, robust accuracy <= clean accuracy, targeted FGSM hits its targets, a
 * sweep equals its attacks run one by one, and no tensor leaks.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AttackSpec } from '../src/attacks/attack.js';
import { type AttackCount, evaluate, type EvaluateOptions, sweep } from '../src/attacks/evaluate.js';
import { resolveDataset } from '../src/data/registry.js';
import { loadShared, type SplitView, splitView } from '../src/data/shared.js';
import { sampleRandom } from '../src/attacks/random.js';
import { installNodeKernels } from '../src/backend/node/kernels.js';
import { installWasmKernels } from '../src/backend/wasm/install.js';
import { DEFAULT_TRAIN } from '../src/experiments/types.js';
import { initWeights, Net } from '../src/paper/net.js';
import { Stream } from '../src/paper/rng.js';
import { trainNet } from '../src/training/train.js';
import { nativeStatus } from './fixtures/native-status.js';

const native = nativeStatus();
/** The backends runs use (cpu gives each row the same result whatever the batch holds by construction). */
const SHARD_BACKENDS = ['wasm', ...(native.built ? ['tensorflow'] : [])];

const SEED = 3;
let normal: Net;
let other: Net;
let glance: Net;
let test: SplitView;

beforeAll(async () => {
  await tf.setBackend('wasm');
  installWasmKernels();
  if (native.built) {
    await import('@tensorflow/tfjs-node');
    installNodeKernels();
  }
  await tf.setBackend('cpu');
  const ds = loadShared(resolveDataset({ dataset: 'mnist' }));
  const train = splitView(ds, 'train');
  test = splitView(ds, 'test');
  const cfg = { ...DEFAULT_TRAIN, epochs: 1, limit: 4000 };
  const { weights } = trainNet({ model: 'NormalNet' }, initWeights({ model: 'NormalNet' }, SEED), train, cfg, SEED);
  normal = new Net({ model: 'NormalNet' }, weights);
  const second = trainNet({ model: 'NormalNet' }, initWeights({ model: 'NormalNet' }, SEED + 1), train, cfg, SEED + 1);
  other = new Net({ model: 'NormalNet' }, second.weights);
  const spec = { model: 'GlanceAgain', baseLayer: 'frozen', resampling: 'bilinear' } as const;
  glance = new Net(spec, initWeights(spec, SEED, weights));
});

afterAll(() => {
  for (const n of [normal, other, glance]) n?.dispose();
});

const pct = (r: AttackCount) => (100 * r.correct) / r.total;
const counts = (rows: AttackCount[]) => rows.map(({ correct, total, targetHits }) => ({ correct, total, targetHits }));

/** Counts of [start, end) evaluated as the given shards, summed. */
function sharded(opts: EvaluateOptions, cuts: number[]): AttackCount[] {
  const parts = cuts.slice(0, -1).map((s, i) => evaluate({ ...opts, start: s, end: cuts[i + 1] }));
  return parts[0].map((row, i) => ({
    ...row,
    correct: parts.reduce((s, p) => s + p[i].correct, 0),
    total: parts.reduce((s, p) => s + p[i].total, 0),
    targetHits: row.targetHits === undefined ? undefined : parts.reduce((s, p) => s + p[i].targetHits!, 0),
  }));
}

const ALL: AttackSpec[] = [
  { name: 'none', eps: 0, units: 'pixel' },
  { name: 'fgsm', eps: 0.3, units: 'pixel' },
  { name: 'fgsm', eps: 0.3, units: 'normalized' },
  { name: 'fgsm-targeted', eps: 0.3, units: 'pixel', target: 'random' },
  { name: 'eot-fgsm', eps: 0.3, units: 'pixel', eotSamples: 2 },
  { name: 'pgd', eps: 0.3, units: 'pixel', steps: 2 },
  { name: 'eot-pgd', eps: 0.1, units: 'normalized', steps: 2, eotSamples: 2 },
  { name: 'pgd', eps: 0.1, units: 'pixel', steps: 2, restarts: 2, loss: 'dlr' },
  { name: 'noise', eps: 0.3, units: 'pixel' },
  { name: 'square', eps: 0.1, units: 'pixel', queries: 20 },
];
/** GlanceAgain's gradients run its transforms in JS: fewer and cheaper attacks. */
const CHEAP: AttackSpec[] = [
  { name: 'none', eps: 0, units: 'pixel' },
  { name: 'fgsm', eps: 0.3, units: 'pixel' },
  { name: 'fgsm-targeted', eps: 0.3, units: 'normalized', target: 'random' },
  { name: 'eot-fgsm', eps: 0.3, units: 'pixel', eotSamples: 2 },
  { name: 'pgd', eps: 0.3, units: 'pixel', steps: 1 },
  { name: 'noise', eps: 0.3, units: 'normalized' },
  { name: 'square', eps: 0.1, units: 'pixel', queries: 5, eotSamples: 2 },
];
const attacksFor = (net: Net) => (net.randomized ? CHEAP : ALL);

describe('evaluate', () => {
  it('NormalNet white-box: eps = 0 is clean accuracy, robust <= clean, and FGSM at 0.3 breaks it', () => {
    const rows = evaluate({
      target: normal,
      view: test,
      start: 0,
      end: 1000,
      seed: SEED,
      attacks: [{ name: 'none', eps: 0, units: 'pixel' }, ...sweep({ name: 'fgsm', units: 'pixel' }, [0, 0.05, 0.1, 0.3]), { name: 'pgd', eps: 0.1, units: 'pixel', steps: 10 }],
    });
    const [clean, fgsm0, fgsm05, fgsm1, fgsm3, pgd1] = rows;
    expect(clean.total).toBe(1000);
    expect(pct(clean)).toBeGreaterThan(80);
    expect(fgsm0.correct).toBe(clean.correct);
    expect(fgsm05.correct).toBeLessThanOrEqual(clean.correct);
    expect(fgsm1.correct).toBeLessThanOrEqual(fgsm05.correct);
    expect(fgsm3.correct).toBeLessThanOrEqual(fgsm1.correct);
    expect(pct(fgsm3)).toBeLessThan(20);
    // PGD is the stronger attack at the same eps.
    expect(pgd1.correct).toBeLessThanOrEqual(fgsm1.correct);
    expect(rows.map((r) => [r.attack, r.eps, r.units])).toEqual([
      ['none', 0, 'pixel'], ['fgsm', 0, 'pixel'], ['fgsm', 0.05, 'pixel'], ['fgsm', 0.1, 'pixel'], ['fgsm', 0.3, 'pixel'], ['pgd', 0.1, 'pixel'],
    ]);
  });

  it('eps = 0 leaves accuracy unchanged for every attack, on a randomised model too', () => {
    for (const target of [normal, glance]) {
      const zero = attacksFor(target).map((a) => ({ ...a, eps: 0 }));
      const rows = evaluate({ target, view: test, start: 0, end: target.randomized ? 12 : 64, seed: SEED, attacks: zero });
      for (const r of rows) expect(r.correct).toBe(rows[0].correct);
    }
  });

  it('targeted FGSM raises the target-hit rate over clean', () => {
    const targeted = (eps: number) =>
      evaluate({ target: normal, view: test, start: 0, end: 500, seed: SEED, attacks: [{ name: 'fgsm-targeted', eps, units: 'pixel' }] })[0];
    const clean = targeted(0);
    const attacked = targeted(0.2);
    expect(clean.targetHits).toBeLessThan(25);
    expect(attacked.targetHits!).toBeGreaterThan(clean.targetHits! + 100);
    expect(attacked.correct).toBeLessThan(clean.correct);
  });

  it('transfer: adversarial images from another NormalNet hurt less than white-box ones', () => {
    const spec: AttackSpec[] = [{ name: 'fgsm', eps: 0.1, units: 'pixel' }];
    const opts = { target: normal, view: test, start: 0, end: 500, seed: SEED, attacks: spec };
    const whiteBox = evaluate(opts)[0];
    const transfer = evaluate({ ...opts, source: other })[0];
    expect(transfer.correct).toBeGreaterThanOrEqual(whiteBox.correct);
  });

  // Counts add up off batch boundaries only if the backend's kernels give each row the same
  // result whatever the batch holds: checked on the backends runs use, too (src/attacks/evaluate.ts).
  for (const backend of SHARD_BACKENDS) {
    for (const model of ['NormalNet', 'GlanceAgain'] as const) {
      it(`${model} on ${backend}: shard counts add up to the whole-slice counts exactly, and the same seed gives the same counts`, async () => {
        await tf.setBackend(backend);
        try {
          const target = model === 'NormalNet' ? normal : glance;
          const end = target.randomized ? 24 : 100;
          const opts: EvaluateOptions = { target, view: test, start: 0, end, batchSize: end / 4, seed: SEED, attacks: attacksFor(target) };
          const whole = evaluate(opts);
          expect(counts(evaluate(opts))).toEqual(counts(whole));
          // On batch boundaries, and off them (a cut at 0.3 * end splits a batch).
          expect(counts(sharded(opts, [0, end / 2, end]))).toEqual(counts(whole));
          expect(counts(sharded(opts, [0, Math.round(0.3 * end), end]))).toEqual(counts(whole));
          // Another batch size: the same per-sample randomness.
          expect(counts(evaluate({ ...opts, batchSize: end }))).toEqual(counts(whole));
        } finally {
          await tf.setBackend('cpu');
        }
      });
    }
  }

  it('a sweep equals its attacks evaluated one by one (the shared gradient changes nothing)', () => {
    for (const target of [normal, glance]) {
      const attacks = [
        ...sweep({ name: 'fgsm', units: 'pixel' }, [0.1, 0.3]),
        ...sweep({ name: 'fgsm', units: 'normalized' }, [0.3]),
        ...sweep({ name: 'eot-fgsm', units: 'pixel', eotSamples: 2 }, [0.1, 0.3]),
      ];
      const opts = { target, view: test, start: 0, end: target.randomized ? 12 : 24, batchSize: target.randomized ? 6 : 12, seed: SEED };
      const together = evaluate({ ...opts, attacks });
      const alone = attacks.map((a) => evaluate({ ...opts, attacks: [a] })[0]);
      expect(counts(together)).toEqual(counts(alone));
    }
  });

  it('GlanceAgain white-box: the attack draw is independent of the evaluation draw', () => {
    const attackDraw = sampleRandom(SEED, Stream.attack, 0, 50).draw(glance)!;
    const evalDraw = sampleRandom(SEED, Stream.evalTransforms, 0, 50).draw(glance)!;
    let same = 0;
    for (let i = 0; i < attackDraw.scales.length; i++) if (attackDraw.scales[i] === evalDraw.scales[i]) same++;
    expect(same).toBe(0);
    const [row] = evaluate({ target: glance, view: test, start: 0, end: 50, seed: SEED, attacks: [{ name: 'fgsm', eps: 0.3, units: 'pixel' }] });
    expect(row.spec).toMatchObject({ name: 'fgsm', eotSamples: 1, steps: 1, stepSize: 0.3, randomStart: false });
  });

  it('leaks no tensors and checks its slice', () => {
    const before = tf.memory().numTensors;
    evaluate({ target: glance, view: test, start: 5, end: 17, batchSize: 8, seed: SEED, attacks: CHEAP });
    evaluate({ target: normal, source: other, view: test, start: 5, end: 37, batchSize: 16, seed: SEED, attacks: ALL });
    expect(tf.memory().numTensors).toBe(before);
    expect(() => evaluate({ target: normal, view: test, start: 0, end: 10_001, seed: 1, attacks: ALL })).toThrow(RangeError);
    expect(() => evaluate({ target: normal, view: test, start: 0, end: 10, batchSize: 0, seed: 1, attacks: ALL })).toThrow(TypeError);
  });
});
