/**
 * The one small interface of the attacks: a spec of plain data, `resolveAttack`
 * to check it and fill its defaults, and `craft` to dispatch to the attack's file.
 *
 *   fgsm           fgsm.ts   one signed-gradient step, one transform draw
 *   fgsm-targeted  fgsm.ts   the same, stepping down the loss of a target label
 *   eot-fgsm       eot.ts    the gradient averaged over K transform draws
 *   pgd, eot-pgd   pgd.ts    L-infinity PGD, K = 1 draw or K draws per step
 *   noise          fgsm.ts   a step of eps along fair random signs (the sanity baseline)
 *   square         square.ts the Square attack: a score-based random search
 *
 * Every gradient attack ascends the loss of loss.ts through fgsm.ts's
 * inputGradient: cross-entropy with the 'stable' or the 'float32' gradient, or
 * for PGD a margin loss. PGD's restarts are run by evaluate.ts (an example must
 * survive each); `craft` runs the one restart its randomness is for.
 *
 * Against GlanceAgain, `fgsm` and `pgd` use one fresh draw per gradient (the
 * paper's single-draw white-box); the draw is independent of the one the model
 * makes when it classifies the result. A resolved spec names every effective
 * value (FGSM is recorded as steps 1, stepSize eps, no random start, K 1), so a
 * result says exactly what was run.
 */
import * as tf from '@tensorflow/tfjs';
import type { AttackGradient, AttackName, EpsUnits, PgdLoss } from '../experiments/types.js';
import { ATTACK_GRADIENTS, ATTACKS, EPS_UNITS, PGD_LOSSES } from '../experiments/types.js';
import type { Net } from '../paper/net.js';
import { Rng } from '../paper/rng.js';
import { expectedGradient } from './eot.js';
import { randomSigns, signStep } from './fgsm.js';
import type { AttackObjective } from './loss.js';
import { pgd } from './pgd.js';
import { batchRandom, type BatchRandom } from './random.js';
import { square } from './square.js';

export type TargetChoice = 'next' | 'random';

export interface AttackSpec {
  name: AttackName;
  /** Size of the L-infinity ball, in `units` (see eps.ts). Ignored (recorded as 0) for 'none'. */
  eps: number;
  units: EpsUnits;
  /** Step down the loss of a target label instead of up the loss of the true one. Implied by 'fgsm-targeted'. */
  targeted?: boolean;
  /** Targeted attacks: (y + 1) mod 10 ('next', the default) or uniform over the labels != y ('random'). */
  target?: TargetChoice;
  /** EOT attacks: transform draws averaged per gradient (K). Default 10. */
  eotSamples?: number;
  /** PGD: steps. Default 40. */
  steps?: number;
  /** PGD: step size, in `units`. Default 2.5 * eps / steps. */
  stepSize?: number;
  /** PGD: start uniformly in the eps-ball. Default true. */
  randomStart?: boolean;
  /** Gradient attacks: how the cross-entropy's logit gradient is computed (loss.ts). Default 'stable'. */
  gradient?: AttackGradient;
  /** PGD: the loss ascended, 'ce', 'cw' or 'dlr' (loss.ts). Default 'ce'; one-step attacks always use 'ce'. */
  loss?: PgdLoss;
  /** PGD: random restarts; an example counts as robust only if it survives each (evaluate.ts). Default 1. */
  restarts?: number;
  /** Square: search iterations (queries after the first). Default 1000. */
  queries?: number;
}

export type ResolvedAttack = Required<AttackSpec>;

export const ATTACK_DEFAULTS = {
  eotSamples: 10,
  steps: 40,
  target: 'next',
  randomStart: true,
  gradient: 'stable',
  loss: 'ce',
  restarts: 1,
  queries: 1000,
} as const;

const isEot = (name: AttackName) => name === 'eot-fgsm' || name === 'eot-pgd';
export const isPgd = (name: AttackName) => name === 'pgd' || name === 'eot-pgd';

/** What the attack ascends, as loss.ts takes it. */
export const objectiveOf = (s: ResolvedAttack): AttackObjective => ({ loss: s.loss, gradient: s.gradient });

const positiveInteger = (name: AttackName, field: string, v: number) => {
  if (!(Number.isInteger(v) && v >= 1)) throw new TypeError(`attack ${name}: ${field} must be an integer >= 1, got ${v}`);
  return v;
};

/** Checks a spec and fills every default. Fields that do not apply to the attack are ignored. */
export function resolveAttack(spec: AttackSpec): ResolvedAttack {
  const { name, units } = spec;
  if (!ATTACKS.includes(name)) throw new TypeError(`attack: name must be one of ${ATTACKS.join(', ')}, got ${JSON.stringify(name)}`);
  if (!EPS_UNITS.includes(units)) throw new TypeError(`attack ${name}: units must be one of ${EPS_UNITS.join(', ')}, got ${JSON.stringify(units)}`);
  const gradient = spec.gradient ?? ATTACK_DEFAULTS.gradient;
  if (!ATTACK_GRADIENTS.includes(gradient)) {
    throw new TypeError(`attack ${name}: gradient must be one of ${ATTACK_GRADIENTS.join(', ')}, got ${JSON.stringify(gradient)}`);
  }
  const fixed = { gradient, loss: 'ce', restarts: 1, queries: 0 } as const;
  if (name === 'none') {
    return { name, eps: 0, units, targeted: false, target: 'next', eotSamples: 1, steps: 0, stepSize: 0, randomStart: false, ...fixed };
  }
  const eps = spec.eps;
  if (!(Number.isFinite(eps) && eps >= 0)) throw new TypeError(`attack ${name}: eps must be a finite number >= 0, got ${eps}`);
  if ((name === 'noise' || name === 'square') && spec.targeted) throw new TypeError(`attack ${name}: has no targeted form`);
  const targeted = name === 'fgsm-targeted' || (spec.targeted ?? false);
  const target = spec.target ?? ATTACK_DEFAULTS.target;
  if (target !== 'next' && target !== 'random') {
    throw new TypeError(`attack ${name}: target must be 'next' or 'random', got ${JSON.stringify(target)}`);
  }
  // Square averages its queries' margins over K draws, as EOT averages gradients.
  const eotSamples = positiveInteger(name, 'eotSamples', isEot(name) || name === 'square' ? (spec.eotSamples ?? ATTACK_DEFAULTS.eotSamples) : 1);
  if (name === 'square') {
    const queries = positiveInteger(name, 'queries', spec.queries ?? ATTACK_DEFAULTS.queries);
    return { name, eps, units, targeted, target, eotSamples, steps: 0, stepSize: 0, randomStart: true, ...fixed, queries };
  }
  if (!isPgd(name)) return { name, eps, units, targeted, target, eotSamples, steps: 1, stepSize: eps, randomStart: false, ...fixed };
  const steps = positiveInteger(name, 'steps', spec.steps ?? ATTACK_DEFAULTS.steps);
  const stepSize = spec.stepSize ?? (2.5 * eps) / steps;
  if (!(Number.isFinite(stepSize) && stepSize >= 0)) {
    throw new TypeError(`attack ${name}: stepSize must be a finite number >= 0, got ${stepSize}`);
  }
  const randomStart = spec.randomStart ?? ATTACK_DEFAULTS.randomStart;
  const loss = spec.loss ?? ATTACK_DEFAULTS.loss;
  if (!PGD_LOSSES.includes(loss)) throw new TypeError(`attack ${name}: loss must be one of ${PGD_LOSSES.join(', ')}, got ${JSON.stringify(loss)}`);
  const restarts = positiveInteger(name, 'restarts', spec.restarts ?? ATTACK_DEFAULTS.restarts);
  return { name, eps, units, targeted, target, eotSamples, steps, stepSize, randomStart, gradient, loss, restarts, queries: 0 };
}

/**
 * Whether the attack is one signed step whose direction does not depend on eps
 * (a gradient, or noise's random signs), so a sweep shares it.
 */
export const isOneStep = (spec: ResolvedAttack) =>
  spec.name === 'fgsm' || spec.name === 'fgsm-targeted' || spec.name === 'eot-fgsm' || spec.name === 'noise';

/** The target label of each sample of a targeted attack. */
export function chooseTargets(y: Int32Array, choice: TargetChoice, random: BatchRandom): Int32Array {
  if (choice === 'random') return random.otherLabels(y);
  return y.map((label) => (label + 1) % 10);
}

/**
 * Adversarial images crafted on `source` for images x [n, 784] with labels y.
 * `rng` is one generator for the batch, or a per-sample BatchRandom (random.ts).
 * Targeted attacks use `targets` when given, else chooseTargets(y, spec.target, rng).
 * Returns a new tensor; nothing else is kept.
 */
export function craft(
  source: Net,
  x: tf.Tensor2D,
  y: tf.Tensor1D,
  spec: AttackSpec,
  rng: Rng | BatchRandom,
  targets?: Int32Array,
): tf.Tensor2D {
  const s = resolveAttack(spec);
  const n = x.shape[0];
  const random = rng instanceof Rng ? batchRandom(rng, n) : rng;
  if (random.n !== n) throw new RangeError(`craft: the randomness is for ${random.n} samples, the batch has ${n}`);
  if (s.name === 'none') return tf.clone(x);
  return tf.tidy(() => {
    if (s.name === 'square') return square(source, x, y.dataSync() as Int32Array, s, random);
    if (s.name === 'noise') return signStep(x, randomSigns(random), s.eps, s.units, false);
    const labels = s.targeted ? tf.tensor1d(targets ?? chooseTargets(y.dataSync() as Int32Array, s.target, random), 'int32') : y;
    if (isPgd(s.name)) return pgd(source, x, labels, s, random);
    const grad = expectedGradient(source, x, labels, s.eotSamples, random, objectiveOf(s));
    return signStep(x, grad, s.eps, s.units, s.targeted);
  });
}
