/**
 * FGSM (Goodfellow et al. 2015): x' = x + eps * sign(grad_x L(x, y)), clipped to
 * [0,1] in pixel units. The targeted variant steps down the loss of a target
 * label instead: x' = x - eps * sign(grad_x L(x, t)).
 * The gradient is an input: EOT averages it over transform draws (eot.ts); here it
 * is the gradient of a single forward pass.
 */
import * as tf from '@tensorflow/tfjs';
import type { EpsUnits } from '../experiments/types.js';
import { nllLoss, type Net } from '../models/net.js';
import type { GlanceDraw } from '../models/transforms.js';
import { clipsToPixels, pixelEps } from './eps.js';

/** Input gradient of the mean NLL of `labels` at x, for one transform draw. Call inside tf.tidy. */
export function inputGradient(net: Net, x: tf.Tensor2D, labels: tf.Tensor1D, draw?: GlanceDraw): tf.Tensor2D {
  return tf.grad((xi: tf.Tensor) => nllLoss(net.forward(xi as tf.Tensor2D, draw), labels))(x) as tf.Tensor2D;
}

/**
 * sign(g) exactly: 1 where g > 0, -1 where g < 0, 0 where g = 0. tf.sign is not
 * used because the wasm backend's Sign kernel returns 0 for |g| < 2^-23 (about
 * 1.19e-7; measured with tfjs 4.22), and input gradients of a mean loss over a
 * batch are routinely that small: FGSM would silently leave those pixels alone.
 * Call inside tf.tidy.
 */
export function exactSign(g: tf.Tensor): tf.Tensor {
  return tf.sub(tf.cast(tf.greater(g, 0), 'float32'), tf.cast(tf.less(g, 0), 'float32'));
}

/**
 * One signed-gradient step from `x` of size eps (in `units`), projected back into the
 * eps-ball around `origin` and, in pixel units, into [0,1]. Call inside tf.tidy.
 */
export function signStep(
  x: tf.Tensor2D,
  grad: tf.Tensor2D,
  step: number,
  units: EpsUnits,
  targeted: boolean,
  origin: tf.Tensor2D = x,
  eps: number = step,
): tf.Tensor2D {
  const s = pixelEps(step, units) * (targeted ? -1 : 1);
  let next = tf.add(x, tf.mul(exactSign(grad), s)) as tf.Tensor2D;
  if (origin !== x) {
    const e = pixelEps(eps, units);
    next = tf.clipByValue(tf.sub(next, origin), -e, e).add(origin) as tf.Tensor2D;
  }
  return clipsToPixels(units) ? (tf.clipByValue(next, 0, 1) as tf.Tensor2D) : next;
}

/** FGSM against `net` on labels (or target labels when targeted). Call inside tf.tidy. */
export function fgsm(
  net: Net,
  x: tf.Tensor2D,
  labels: tf.Tensor1D,
  eps: number,
  units: EpsUnits,
  opts: { targeted?: boolean; draw?: GlanceDraw } = {},
): tf.Tensor2D {
  return signStep(x, inputGradient(net, x, labels, opts.draw), eps, units, opts.targeted ?? false);
}
