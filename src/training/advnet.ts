/**
 * AdvNet's training objective (Goodfellow et al. 2015): NormalNet trained on FGSM
 * examples of every batch, crafted against the current weights,
 *   mix * L(x, y) + (1 - mix) * L(FGSM(x), y),
 * with FGSM's eps and units and the mix from the training config. The adversarial
 * batch is a constant of the step (no gradient flows through its crafting); the
 * clean and adversarial batches go through the network as one batch of 2n.
 */
import * as tf from '@tensorflow/tfjs';
import type { AdvTrainConfig } from '../experiments/types.js';
import { fgsm } from '../attacks/fgsm.js';
import { softmaxCrossEntropy } from '../ops/softmax-xent.js';
import type { Batch, Objective } from './objective.js';

export function advNetObjective(cfg: AdvTrainConfig): Objective {
  return {
    prepare: (net, batch: Batch) => tf.tidy(() => fgsm(net, batch.x, batch.y, cfg.advEps, cfg.advUnits, { draw: batch.draw })),
    loss: (net, batch, xAdv) => {
      const n = batch.x.shape[0];
      const logits = net.logits(tf.concat([batch.x, xAdv!]), batch.draw);
      const weights = tf.concat([tf.fill([n], cfg.advMix / n), tf.fill([n], (1 - cfg.advMix) / n)]);
      const loss = tf.sum(tf.mul(softmaxCrossEntropy(logits, tf.concat([batch.y, batch.y]) as tf.Tensor1D), weights)) as tf.Scalar;
      return { loss, logits: tf.slice(logits, [0, 0], [n, -1]) };
    },
  };
}
