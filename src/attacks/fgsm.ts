/**
 * FGSM (Goodfellow et al. 2015): x' = x + eps * sign(grad_x L(x, y)), clipped to
 * [0,1] in pixel units; the targeted variant steps down the loss of a target label,
 * x' = x - eps * sign(grad_x L(x, t)). This file holds the one signed-gradient
 * step and the one L-infinity projection that every attack and AdvNet's training
 * use; the gradient is an input, so EOT (eot.ts) can average it over draws, and
 * the 'noise' attack steps along random signs instead.
 */
import * as tf from '@tensorflow/tfjs';
import type { EpsUnits } from '../experiments/types.js';
import type { Net } from '../paper/net.js';
import type { GlanceDraw } from '../paper/transforms.js';
import { PIXELS } from '../experiments/models.js';
import { clipsToPixels, pixelEps } from './eps.js';
import { attackLoss, type AttackObjective, FLOAT32_CE } from './loss.js';
import type { BatchRandom } from './random.js';

/**
 * Input gradient of the summed attack loss (loss.ts) of `labels` at x, for one
 * transform draw: the one gradient every gradient attack takes. The attacks pass
 * their objective; the default is the training numerics (AdvNet's FGSM batches).
 * Call inside tf.tidy.
 */
export function inputGradient(net: Net, x: tf.Tensor2D, labels: tf.Tensor1D, draw?: GlanceDraw, objective: AttackObjective = FLOAT32_CE): tf.Tensor2D {
  return tf.grad((xi: tf.Tensor) => tf.sum(attackLoss(net.logits(xi as tf.Tensor2D, draw), labels, objective)))(x) as tf.Tensor2D;
}

/**
 * sign(g) exactly: 1 where g > 0, -1 where g < 0, 0 where g = 0. tf.sign is not
 * used because the wasm backend's Sign kernel returns 0 for |g| < 2^-23, and input
 * gradients are routinely that small: FGSM would silently leave those pixels alone.
 * Call inside tf.tidy.
 */
export function exactSign(g: tf.Tensor): tf.Tensor {
  return tf.sub(tf.cast(tf.greater(g, 0), 'float32'), tf.cast(tf.less(g, 0), 'float32'));
}

/** Clips to [0,1] in pixel units; normalized units are not clipped. Call inside tf.tidy. */
const toPixelRange = (x: tf.Tensor2D, units: EpsUnits) => (clipsToPixels(units) ? (tf.clipByValue(x, 0, 1) as tf.Tensor2D) : x);

/** One signed-gradient step of size `step` (in `units`) from x, up the loss (down when targeted). Call inside tf.tidy. */
export function signStep(x: tf.Tensor2D, grad: tf.Tensor2D, step: number, units: EpsUnits, targeted: boolean): tf.Tensor2D {
  const s = pixelEps(step, units) * (targeted ? -1 : 1);
  return toPixelRange(tf.add(x, tf.mul(exactSign(grad), s)) as tf.Tensor2D, units);
}

/** Projection onto the L-infinity ball of radius eps (in `units`) around origin and, in pixel units, onto [0,1]. Call inside tf.tidy. */
export function project(xAdv: tf.Tensor2D, origin: tf.Tensor2D, eps: number, units: EpsUnits): tf.Tensor2D {
  const e = pixelEps(eps, units);
  return toPixelRange(tf.add(origin, tf.clipByValue(tf.sub(xAdv, origin), -e, e)) as tf.Tensor2D, units);
}

/**
 * FGSM against `net` on labels (target labels when targeted), one transform draw.
 * The objective defaults to the training numerics, which AdvNet's training uses
 * (its checkpoints stay comparable across runs). Call inside tf.tidy.
 */
export function fgsm(
  net: Net,
  x: tf.Tensor2D,
  labels: tf.Tensor1D,
  eps: number,
  units: EpsUnits,
  opts: { targeted?: boolean; draw?: GlanceDraw; objective?: AttackObjective } = {},
): tf.Tensor2D {
  return signStep(x, inputGradient(net, x, labels, opts.draw, opts.objective), eps, units, opts.targeted ?? false);
}

/** A fair random sign per pixel (the 'noise' attack's direction), per sample from `random`. Call inside tf.tidy. */
export function randomSigns(random: BatchRandom): tf.Tensor2D {
  const u = random.uniform(PIXELS, -1, 1);
  return tf.tensor2d(u.map((v) => (v < 0 ? -1 : 1)), [random.n, PIXELS]);
}
