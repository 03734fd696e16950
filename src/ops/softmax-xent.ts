/**
 * Softmax cross-entropy of integer labels as one op: per-example NLL of the
 * log-softmax of the logits, whose gradient w.r.t. the logits is
 * dy * (softmax - onehot). The kernel 'GlanceSoftmaxXent' computes the losses and
 * that softmax - onehot in one pass; node registers TensorFlow's
 * SparseSoftmaxCrossEntropyWithLogits under the name (src/backend/node).
 */
import * as tf from '@tensorflow/tfjs';
import { asTensor, registerReference, runKernel } from './registry.js';

export const SOFTMAX_XENT = 'GlanceSoftmaxXent';

/** The reference kernel: logits [m, c], labels [m] int32 -> [losses [m], softmax - onehot [m, c]]. */
export function softmaxXentReference(logits: tf.Tensor, labels: tf.Tensor): tf.Tensor[] {
  return tf.tidy(() => {
    const logp = tf.logSoftmax(logits);
    const oneHot = tf.oneHot(labels as tf.Tensor1D, logits.shape[1]!);
    return [tf.neg(tf.sum(tf.mul(logp, oneHot), -1)), tf.sub(tf.exp(logp), oneHot)];
  });
}

registerReference(SOFTMAX_XENT, ({ inputs }) => softmaxXentReference(asTensor(inputs.logits), asTensor(inputs.labels)));

/**
 * Per-example NLL [m] of int32 labels [m] under logits [m, c], differentiable in
 * the logits (labels get no gradient, so they stay out of the op's inputs).
 * Call inside tf.tidy.
 */
export function softmaxCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args[1] as tf.GradSaveFunc;
    const [losses, backprop] = runKernel(SOFTMAX_XENT, { logits: args[0] as tf.Tensor, labels });
    save([backprop]);
    return { value: losses, gradFunc: (dy: tf.Tensor, [bp]: tf.Tensor[]) => tf.mul(bp, tf.expandDims(dy, 1)) };
  });
  return op(logits) as tf.Tensor1D;
}
