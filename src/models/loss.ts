/**
 * The training loss from logits: per-example NLL of the log-softmax, with its
 * gradient softmax - onehot computed in the same pass. On native TensorFlow both
 * come from one kernel (src/backend/native-kernels.ts); elsewhere from the
 * log-softmax ops. `scaledNll` is log-softmax + nllLoss (net.ts) as one op with a
 * one-multiply gradient, for models trained through autodiff (GlanceAgain). The
 * trainers' reported loss and hits come from logits read back (sumNll, countHits).
 */
import * as tf from '@tensorflow/tfjs';
import { onNativeBackend } from '../backend/load.js';
import { nativeSoftmaxCrossEntropy } from '../backend/native-kernels.js';

/** logits [..., c], labels [...] int32 -> per-example NLL [...] and d(NLL)/d(logits) [..., c]. Call inside tf.tidy. */
export function softmaxCrossEntropy(logits: tf.Tensor, labels: tf.Tensor): { losses: tf.Tensor; backprop: tf.Tensor } {
  const classes = logits.shape[logits.rank - 1]!;
  if (onNativeBackend()) {
    // The kernel takes [m, c] and [m]; a reshape is a kernel call on node, so only when needed.
    if (logits.rank === 2) return nativeSoftmaxCrossEntropy(logits as tf.Tensor2D, labels as tf.Tensor1D);
    const { losses, backprop } = nativeSoftmaxCrossEntropy(tf.reshape(logits, [-1, classes]), tf.reshape(labels, [-1]));
    return { losses: tf.reshape(losses, labels.shape), backprop: tf.reshape(backprop, logits.shape) };
  }
  const logp = tf.logSoftmax(logits);
  const oneHot = tf.oneHot(labels as tf.Tensor1D, classes);
  return { losses: tf.neg(tf.sum(tf.mul(logp, oneHot), -1)), backprop: tf.sub(tf.exp(logp), oneHot) };
}

/**
 * scale * the sum of the NLLs of labels [...] under logits [..., c] (scale 1/n: the
 * mean loss), as one op with a one-multiply gradient. Call inside tf.tidy.
 */
export function scaledNll(logits: tf.Tensor, labels: tf.Tensor, scale: number): tf.Scalar {
  // Labels are integers and get no gradient, so they stay out of the op's inputs.
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args[1] as tf.GradSaveFunc;
    const { losses, backprop } = softmaxCrossEntropy(args[0] as tf.Tensor, labels);
    save([backprop]);
    return {
      value: tf.mul(tf.sum(losses), scale) as tf.Scalar,
      gradFunc: (dy: tf.Tensor, [bp]: tf.Tensor[]) => tf.mul(bp, tf.mul(dy, scale)),
    };
  });
  return op(logits) as tf.Scalar;
}

/** The summed NLL of labels under logits [m * classes] read back, in float64 (for reports, not gradients). */
export function sumNll(logits: ArrayLike<number>, labels: ArrayLike<number>, classes: number): number {
  let total = 0;
  for (let i = 0; i < labels.length; i++) {
    const row = i * classes;
    let max = -Infinity;
    for (let c = 0; c < classes; c++) max = Math.max(max, logits[row + c]);
    let z = 0;
    for (let c = 0; c < classes; c++) z += Math.exp(logits[row + c] - max);
    total += max + Math.log(z) - logits[row + labels[i]];
  }
  return total;
}

/** How many rows of logits [m * classes] (read back) have their largest entry at the label (the first on ties, as tf.argMax). */
export function countHits(logits: Float32Array | ArrayLike<number>, labels: ArrayLike<number>, classes: number): number {
  let hits = 0;
  for (let i = 0; i < labels.length; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (logits[i * classes + c] > logits[i * classes + best]) best = c;
    if (best === labels[i]) hits++;
  }
  return hits;
}
