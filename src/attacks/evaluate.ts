/**
 * Accuracy under attack on a slice [start, end) of a split: for each batch, craft
 * adversarial images on `source` (transfer; `source` = `target` is white-box) and
 * count how many `target` still classifies correctly (and, for targeted attacks,
 * how many it classifies as the target).
 *
 * Determinism and shards: all randomness is drawn per sample from generators
 * seeded with (seed, the sample's absolute index in the split) — the attack's
 * transform draws, random start and random targets on Stream.attack, the target
 * model's own transform draw on Stream.evalTransforms — and batches are aligned
 * to absolute multiples of batchSize. So [0, 1000) in one call and [0, 500) +
 * [500, 1000) in two give the same per-sample outcomes and counts that add up
 * exactly. Shard boundaries on multiples of batchSize make every computation
 * bit-identical; elsewhere only the batch composition of the kernels differs
 * (row-independent, so far identical on wasm: see test/attacks-evaluate.test.ts).
 *
 * The target model draws its transforms once per sample and uses that draw for
 * every attack of the call (common random numbers: clean and attacked accuracy
 * differ only by the attack). It is always independent of the attack's draws.
 *
 * Sweeps share work: one-step attacks (fgsm, fgsm-targeted, eot-fgsm, noise) that
 * differ only in eps or units share one direction per batch — for GlanceAgain the
 * same draw(s) — and 'none' is classified once. PGD and Square are recomputed per eps.
 *
 * PGD with R restarts runs R times with fresh per-sample generators (restart r:
 * sampleRandomAt(..., r)); an example counts as correct only if the target model
 * classifies it correctly after every restart, and as a target hit if any restart
 * hits. A restart attacks only the examples whose outcome it can still change,
 * which is the same per-sample outcome as attacking all of them. Each row also says which examples were correct (`correctFlags`), from the
 * same predictions as the count.
 */
import * as tf from '@tensorflow/tfjs';
import type { AttackName, EpsUnits } from '../experiments/types.js';
import type { SplitView } from '../data/shared.js';
import type { Net } from '../paper/net.js';
import { Stream } from '../paper/rng.js';
import { type AttackSpec, chooseTargets, craft, isOneStep, isPgd, objectiveOf, resolveAttack, type ResolvedAttack } from './attack.js';
import { expectedGradient } from './eot.js';
import { randomSigns, signStep } from './fgsm.js';
import { type BatchRandom, sampleRandom, sampleRandomAt } from './random.js';
import { concatDraws, sliceDraw } from '../paper/transforms.js';

export interface EvaluateOptions {
  /** The model that classifies the adversarial images. */
  target: Net;
  /** The model the attack is crafted on: another model for transfer; omitted (= target) for white-box. */
  source?: Net;
  view: SplitView;
  /** Half-open slice [start, end) of the split. */
  start: number;
  end: number;
  /** Samples per batch. Default 500. */
  batchSize?: number;
  attacks: readonly AttackSpec[];
  seed: number;
  /** Called after each batch with the samples done and the slice size. */
  onBatch?: (done: number, total: number) => void;
}

/** The counts of one attack over the slice, in the order of `attacks`. */
export interface AttackCount {
  attack: AttackName;
  eps: number;
  units: EpsUnits;
  correct: number;
  total: number;
  /** Targeted attacks: adversarial images classified as their target label. */
  targetHits?: number;
  /** Per example of [start, end), in order: 1 where the target model was correct. */
  correctFlags: Uint8Array;
  /** The attack as run, every default filled in. */
  spec: ResolvedAttack;
}

export const DEFAULT_EVAL_BATCH = 500;

/** The specs of an eps sweep: `base` at every eps of the list. */
export function sweep(base: Omit<AttackSpec, 'eps'>, eps: readonly number[]): AttackSpec[] {
  return eps.map((e) => ({ ...base, eps: e }));
}

export function evaluate(opts: EvaluateOptions): AttackCount[] {
  const { target, view, start, end, seed } = opts;
  const source = opts.source ?? target;
  const batchSize = opts.batchSize ?? DEFAULT_EVAL_BATCH;
  if (!(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start <= end && end <= view.count)) {
    throw new RangeError(`evaluate: need integers 0 <= start <= end <= ${view.count}, got [${start}, ${end})`);
  }
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new TypeError(`evaluate: batchSize must be an integer >= 1, got ${batchSize}`);
  if (!Number.isInteger(seed)) throw new TypeError(`evaluate: seed must be an integer, got ${seed}`);
  const specs = opts.attacks.map(resolveAttack);
  const rows: AttackCount[] = specs.map((spec) => ({
    attack: spec.name,
    eps: spec.eps,
    units: spec.units,
    correct: 0,
    total: 0,
    ...(spec.targeted ? { targetHits: 0 } : {}),
    correctFlags: new Uint8Array(end - start),
    spec,
  }));
  const groups = groupSpecs(specs);

  for (let b0 = start; b0 < end; ) {
    const b1 = Math.min(end, (Math.floor(b0 / batchSize) + 1) * batchSize);
    const n = b1 - b0;
    const labels = Int32Array.from(view.labels.subarray(b0, b1));
    const x = tf.tensor2d(view.range(b0, b1), [n, view.size]);
    const y = tf.tensor1d(labels, 'int32');
    const evalDraw = sampleRandom(seed, Stream.evalTransforms, b0, n).draw(target);
    const classify = (xAdv: () => tf.Tensor2D): Int32Array =>
      tf.tidy(() => tf.argMax(target.forward(xAdv(), evalDraw), 1).dataSync() as Int32Array);
    /** Records a row's outcome on the batch: correct[k] and hit[k] per sample. */
    const record = (i: number, correct: Uint8Array, hit?: Uint8Array) => {
      const row = rows[i];
      row.total += n;
      row.correctFlags.set(correct, b0 - start);
      for (let k = 0; k < n; k++) {
        row.correct += correct[k];
        if (hit) row.targetHits! += hit[k];
      }
    };
    const outcome = (pred: Int32Array, targets?: Int32Array) => ({
      correct: Uint8Array.from(pred, (p, k) => (p === labels[k] ? 1 : 0)),
      hit: targets ? Uint8Array.from(pred, (p, k) => (p === targets[k] ? 1 : 0)) : undefined,
    });
    /**
     * The outcome of restart r of an attack on the batch's samples `samples`: restart 0
     * on the whole batch uses the batch's randomness, any other with generators of
     * its own for exactly those samples.
     */
    const restartOutcome = (samples: number[], r: number, spec: ResolvedAttack, random: BatchRandom, targets?: Int32Array) => {
      const whole = samples.length === n;
      const sub = (t: tf.Tensor) => (whole ? t : tf.gather(t, samples));
      const [xs, ys] = tf.tidy(() => [sub(x) as tf.Tensor2D, sub(y) as tf.Tensor1D]);
      const rowRandom = whole && r === 0 ? random : sampleRandomAt(seed, Stream.attack, samples.map((k) => b0 + k), r);
      const rowTargets = targets && Int32Array.from(samples, (k) => targets[k]);
      const draw = evalDraw && !whole ? concatDraws(samples.map((k) => sliceDraw(evalDraw, k, k + 1))) : evalDraw;
      const xAdv = craft(source, xs, ys, spec, rowRandom, rowTargets);
      try {
        const pred = tf.tidy(() => tf.argMax(target.forward(xAdv, draw), 1).dataSync() as Int32Array);
        return {
          correct: Uint8Array.from(pred, (p, i) => (p === labels[samples[i]] ? 1 : 0)),
          hit: rowTargets ? Uint8Array.from(pred, (p, i) => (p === rowTargets[i] ? 1 : 0)) : undefined,
        };
      } finally {
        tf.dispose([xAdv, ...(whole ? [] : [xs, ys])]);
      }
    };
    const count = (i: number, pred: Int32Array, targets?: Int32Array) => {
      const o = outcome(pred, targets);
      record(i, o.correct, o.hit);
    };
    try {
      for (const group of groups) {
        const first = specs[group[0]];
        const random = sampleRandom(seed, Stream.attack, b0, n);
        const targets = first.targeted ? chooseTargets(labels, first.target, random) : undefined;
        if (first.name === 'none') {
          const pred = classify(() => x);
          for (const i of group) count(i, pred);
        } else if (isOneStep(first)) {
          const grad = tf.tidy(() => {
            if (first.name === 'noise') return randomSigns(random);
            const attacked = targets ? tf.tensor1d(targets, 'int32') : y;
            return expectedGradient(source, x, attacked, first.eotSamples, random, objectiveOf(first));
          });
          try {
            for (const i of group) {
              const s = specs[i];
              count(i, classify(() => signStep(x, grad, s.eps, s.units, s.targeted)), targets);
            }
          } finally {
            grad.dispose();
          }
        } else {
          const restarts = isPgd(first.name) ? first.restarts : 1;
          const correct = new Uint8Array(n).fill(1);
          const hit = targets ? new Uint8Array(n) : undefined;
          for (let r = 0; r < restarts; r++) {
            // A restart attacks only the examples whose outcome it can still change.
            const samples = [...correct.keys()].filter((k) => correct[k] || (hit && !hit[k]));
            if (samples.length === 0) break;
            const o = restartOutcome(samples, r, first, random, targets);
            samples.forEach((k, i) => {
              correct[k] &= o.correct[i];
              if (hit) hit[k] |= o.hit![i];
            });
          }
          record(group[0], correct, hit);
        }
      }
    } finally {
      x.dispose();
      y.dispose();
    }
    opts.onBatch?.(b1 - start, end - start);
    b0 = b1;
  }
  return rows;
}

/**
 * Indices of specs that share their work: all 'none'; one-step attacks equal but for
 * eps and units; every other attack alone.
 */
function groupSpecs(specs: readonly ResolvedAttack[]): number[][] {
  const byKey = new Map<string, number[]>();
  const groups: number[][] = [];
  specs.forEach((s, i) => {
    const key = s.name === 'none' ? 'none' : isOneStep(s) ? JSON.stringify([s.name, s.targeted, s.target, s.eotSamples, s.gradient]) : undefined;
    const g = key === undefined ? undefined : byKey.get(key);
    if (g) g.push(i);
    else {
      const fresh = [i];
      groups.push(fresh);
      if (key !== undefined) byKey.set(key, fresh);
    }
  });
  return groups;
}
