/**
 * NormalNet (the paper's vision model): dense 784 -> 100, ReLU, dense 100 -> 10,
 * log-softmax. AdvNet is the same network with another training objective
 * (src/training/advnet.ts). Its first layer is called `base`, the layer
 * GlanceAgain takes over (glance-again.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { CLASSES, HIDDEN, PIXELS } from '../experiments/models.js';
import '../ops/relu.js';
import type { Rng } from './rng.js';
import { denseInit, type WeightSet } from './weights.js';

export type Params = Record<string, tf.Tensor>;

/** Fresh weights from the init stream of a seed, PyTorch's default init. */
export function initNormalNet(rng: Rng): WeightSet {
  return { ...denseInit(rng, 'base', PIXELS, HIDDEN), ...denseInit(rng, 'out', HIDDEN, CLASSES) };
}

/** A dense layer of the weights `name`.kernel, `name`.bias. */
export const dense = (p: Params, name: string, x: tf.Tensor) =>
  tf.add(tf.matMul(x as tf.Tensor2D, p[`${name}.kernel`] as tf.Tensor2D), p[`${name}.bias`]) as tf.Tensor2D;

/** x [n, 784] -> logits [n, 10]. Call inside tf.tidy. */
export function normalNetLogits(p: Params, x: tf.Tensor2D): tf.Tensor2D {
  return dense(p, 'out', tf.relu(dense(p, 'base', x)));
}
