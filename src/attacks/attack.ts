/**
 * The one small interface of the attacks: a spec of plain data, `resolveAttack`
 * to check it and fill its defaults, and `craft` to dispatch to the attack's file.
 *
 *   fgsm           fgsm.ts   one signed-gradient step, one transform draw
 *   fgsm-targeted  fgsm.ts   the same, stepping down the loss of a target label
 *   eot-fgsm       eot.ts    the gradient averaged over K transform draws
 *   pgd, eot-pgd   pgd.ts    L-infinity PGD, K = 1 draw or K draws per step
 *
 * Against GlanceAgain, `fgsm` and `pgd` use one fresh draw per gradient (the
 * paper's single-draw white-box); the draw is independent of the one the model
 * makes when it classifies the result. A resolved spec names every effective
 * value (FGSM is recorded as steps 1, stepSize eps, no random start, K 1), so a
 * result says exactly what was run.
 */
import * as tf from '@tensorflow/tfjs';
import type { AttackName, EpsUnits } from '../experiments/types.js';
import { ATTACKS, EPS_UNITS } from '../experiments/types.js';
import type { Net } from '../paper/net.js';
import { Rng } from '../paper/rng.js';
import { expectedGradient } from './eot.js';
import { signStep } from './fgsm.js';
import { pgd } from './pgd.js';
import { batchRandom, type BatchRandom } from './random.js';

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
}

export type ResolvedAttack = Required<AttackSpec>;

export const ATTACK_DEFAULTS = { eotSamples: 10, steps: 40, target: 'next', randomStart: true } as const;

const isEot = (name: AttackName) => name === 'eot-fgsm' || name === 'eot-pgd';
const isPgd = (name: AttackName) => name === 'pgd' || name === 'eot-pgd';

/** Checks a spec and fills every default. Fields that do not apply to the attack are ignored. */
export function resolveAttack(spec: AttackSpec): ResolvedAttack {
  const { name, units } = spec;
  if (!ATTACKS.includes(name)) throw new TypeError(`attack: name must be one of ${ATTACKS.join(', ')}, got ${JSON.stringify(name)}`);
  if (!EPS_UNITS.includes(units)) throw new TypeError(`attack ${name}: units must be one of ${EPS_UNITS.join(', ')}, got ${JSON.stringify(units)}`);
  if (name === 'none') {
    return { name, eps: 0, units, targeted: false, target: 'next', eotSamples: 1, steps: 0, stepSize: 0, randomStart: false };
  }
  const eps = spec.eps;
  if (!(Number.isFinite(eps) && eps >= 0)) throw new TypeError(`attack ${name}: eps must be a finite number >= 0, got ${eps}`);
  const targeted = name === 'fgsm-targeted' || (spec.targeted ?? false);
  const target = spec.target ?? ATTACK_DEFAULTS.target;
  if (target !== 'next' && target !== 'random') {
    throw new TypeError(`attack ${name}: target must be 'next' or 'random', got ${JSON.stringify(target)}`);
  }
  const eotSamples = isEot(name) ? (spec.eotSamples ?? ATTACK_DEFAULTS.eotSamples) : 1;
  if (!(Number.isInteger(eotSamples) && eotSamples >= 1)) {
    throw new TypeError(`attack ${name}: eotSamples must be an integer >= 1, got ${eotSamples}`);
  }
  if (!isPgd(name)) return { name, eps, units, targeted, target, eotSamples, steps: 1, stepSize: eps, randomStart: false };
  const steps = spec.steps ?? ATTACK_DEFAULTS.steps;
  if (!(Number.isInteger(steps) && steps >= 1)) throw new TypeError(`attack ${name}: steps must be an integer >= 1, got ${steps}`);
  const stepSize = spec.stepSize ?? (2.5 * eps) / steps;
  if (!(Number.isFinite(stepSize) && stepSize >= 0)) {
    throw new TypeError(`attack ${name}: stepSize must be a finite number >= 0, got ${stepSize}`);
  }
  const randomStart = spec.randomStart ?? ATTACK_DEFAULTS.randomStart;
  return { name, eps, units, targeted, target, eotSamples, steps, stepSize, randomStart };
}

/** Whether the attack is one signed-gradient step, whose gradient does not depend on eps (shared by a sweep). */
export const isOneStep = (spec: ResolvedAttack) => spec.name === 'fgsm' || spec.name === 'fgsm-targeted' || spec.name === 'eot-fgsm';

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
    const labels = s.targeted ? tf.tensor1d(targets ?? chooseTargets(y.dataSync() as Int32Array, s.target, random), 'int32') : y;
    if (isPgd(s.name)) return pgd(source, x, labels, s, random);
    const grad = expectedGradient(source, x, labels, s.eotSamples, random);
    return signStep(x, grad, s.eps, s.units, s.targeted);
  });
}
