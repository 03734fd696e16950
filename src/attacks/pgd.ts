/**
 * L-infinity PGD (Madry et al. 2018): from x (or, with a random start, from a point
 * uniform in the eps-ball around x), take `steps` signed-gradient steps of size
 * `stepSize`, each followed by the projection onto the eps-ball around x and, in
 * pixel units, onto [0,1]. Against a randomised model every step's gradient uses
 * fresh transform draws: one for `pgd` (the single-draw white-box), K for
 * `eot-pgd` (EOT-PGD). With 1 step of size eps and no random start it is FGSM.
 * The loss ascended is cross-entropy or a margin (loss.ts); one call is one
 * restart, whose randomness is `random` (evaluate.ts runs the restarts).
 */
import * as tf from '@tensorflow/tfjs';
import { PIXELS } from '../experiments/models.js';
import type { Net } from '../paper/net.js';
import type { ResolvedAttack } from './attack.js';
import { expectedGradient } from './eot.js';
import { clipsToPixels, pixelEps } from './eps.js';
import { project, signStep } from './fgsm.js';
import type { BatchRandom } from './random.js';

export type PgdOptions = Pick<ResolvedAttack, 'eps' | 'units' | 'targeted' | 'eotSamples' | 'steps' | 'stepSize' | 'randomStart' | 'loss' | 'gradient'>;

/** PGD from x [n, 784] on labels (targets when targeted). Returns a new tensor; intermediate steps are freed. */
export function pgd(net: Net, x: tf.Tensor2D, labels: tf.Tensor1D, opts: PgdOptions, random: BatchRandom): tf.Tensor2D {
  const n = x.shape[0];
  const e = pixelEps(opts.eps, opts.units);
  let cur: tf.Tensor2D = opts.randomStart
    ? tf.tidy(() => {
        const start = tf.add(x, tf.tensor2d(random.uniform(PIXELS, -e, e), [n, PIXELS])) as tf.Tensor2D;
        return clipsToPixels(opts.units) ? (tf.clipByValue(start, 0, 1) as tf.Tensor2D) : start;
      })
    : x;
  for (let step = 0; step < opts.steps; step++) {
    const next = tf.tidy(() => {
      const grad = expectedGradient(net, cur, labels, opts.eotSamples, random, { loss: opts.loss, gradient: opts.gradient });
      return project(signStep(cur, grad, opts.stepSize, opts.units, opts.targeted), x, opts.eps, opts.units);
    });
    if (cur !== x) cur.dispose();
    cur = next;
  }
  return cur === x ? tf.clone(x) : cur;
}
