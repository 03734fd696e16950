/**
 * The loss every gradient attack ascends, at the logits; fgsm.ts's inputGradient,
 * the one input gradient FGSM, targeted FGSM, EOT and PGD all take, differentiates it.
 *
 * Cross-entropy comes in two numerics:
 *  - 'float32': the training op (ops/softmax-xent.ts), whose logit gradient is
 *    softmax - onehot. On a confidently classified image float32 rounds p(label)
 *    to 1 once the other probabilities sum below 2^-24 (a logit gap of ~17), so
 *    the label entry p_y - 1 is 0 or round-off and the attack direction loses its
 *    "lower the true class" half. The paper's float32 PyTorch had the same artefact.
 *  - 'stable': the same loss with the label entry computed as -sum_{j != y} p_j,
 *    each p_j = exp(log-softmax) to float32's relative precision: the exact
 *    gradient up to float32 rounding, until the other probabilities underflow
 *    (a logit gap above ~87, where both forms give 0).
 * PGD may instead ascend a margin: Carlini-Wagner's max_{j != y} z_j - z_y, or
 * AutoAttack's DLR, -(z_y - max_{j != y} z_j) / (z_pi1 - z_pi3 + 1e-12) with
 * z_pi the sorted logits (Croce and Hein 2020); their gradients have no
 * saturation problem, so `gradient` does not apply to them.
 */
import * as tf from '@tensorflow/tfjs';
import type { AttackGradient, PgdLoss } from '../experiments/types.js';
import { softmaxCrossEntropy } from '../ops/softmax-xent.js';

/** What an attack ascends and how its gradient is computed. */
export interface AttackObjective {
  loss: PgdLoss;
  gradient: AttackGradient;
}

/** Today's training numerics: the cross-entropy op in float32 (AdvNet's FGSM batches use it). */
export const FLOAT32_CE: AttackObjective = { loss: 'ce', gradient: 'float32' };

/** Cross-entropy whose logit gradient has its label entry as -sum_{j != y} p_j. Call inside tf.tidy. */
export function stableCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const z = args[0] as tf.Tensor2D;
    const save = args[1] as tf.GradSaveFunc;
    const logp = tf.logSoftmax(z);
    const oneHot = tf.oneHot(labels, z.shape[1]);
    const others = tf.mul(tf.exp(logp), tf.sub(1, oneHot));
    const grad = tf.sub(others, tf.mul(oneHot, tf.sum(others, -1, true)));
    save([grad]);
    return { value: tf.neg(tf.sum(tf.mul(logp, oneHot), -1)), gradFunc: (dy: tf.Tensor, [g]: tf.Tensor[]) => tf.mul(g, tf.expandDims(dy, 1)) };
  });
  return op(logits) as tf.Tensor1D;
}

/** Pushes the masked entries far below every logit, so max picks among the others. */
const EXCLUDED = 1e9;
const maxExcept = (logits: tf.Tensor2D, mask: tf.Tensor) => tf.max(tf.sub(logits, tf.mul(mask, EXCLUDED)), -1) as tf.Tensor1D;
const argMaxMask = (logits: tf.Tensor2D, mask: tf.Tensor) =>
  tf.oneHot(tf.argMax(tf.sub(logits, tf.mul(mask, EXCLUDED)), -1) as tf.Tensor1D, logits.shape[1]);

/** z_y and max_{j != y} z_j of each row. Call inside tf.tidy. */
function labelAndBestOther(logits: tf.Tensor2D, labels: tf.Tensor1D): [tf.Tensor1D, tf.Tensor1D] {
  const oneHot = tf.oneHot(labels, logits.shape[1]);
  return [tf.sum(tf.mul(logits, oneHot), -1) as tf.Tensor1D, maxExcept(logits, oneHot)];
}

/** The largest and the third largest logit of each row (tfjs's topk has no gradient). Call inside tf.tidy. */
function firstAndThird(logits: tf.Tensor2D): [tf.Tensor1D, tf.Tensor1D] {
  const none = tf.zerosLike(logits);
  const first = argMaxMask(logits, none);
  const two = tf.add(first, argMaxMask(logits, first));
  return [tf.max(logits, -1) as tf.Tensor1D, maxExcept(logits, two)];
}

/** Per-example loss [n] to ascend. Call inside tf.tidy. */
export function attackLoss(logits: tf.Tensor2D, labels: tf.Tensor1D, objective: AttackObjective): tf.Tensor1D {
  if (objective.loss === 'ce') {
    return objective.gradient === 'stable' ? stableCrossEntropy(logits, labels) : softmaxCrossEntropy(logits, labels);
  }
  const [zy, other] = labelAndBestOther(logits, labels);
  if (objective.loss === 'cw') return tf.sub(other, zy);
  const [z1, z3] = firstAndThird(logits);
  return tf.div(tf.sub(other, zy), tf.add(tf.sub(z1, z3), 1e-12));
}
