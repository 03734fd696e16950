/**
 * The training loss and what a trainer reports. The loss is the mean NLL of the
 * labels under the log-softmax of the logits, through the softmax cross-entropy op
 * (src/ops/softmax-xent.ts). Reports come from values read back (countHits).
 */
import * as tf from '@tensorflow/tfjs';
import { softmaxCrossEntropy } from '../ops/softmax-xent.js';

/** Mean NLL of labels [n] under logits [n, c]. Call inside tf.tidy. */
export const meanNll = (logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar => tf.mean(softmaxCrossEntropy(logits, labels));

/** How many rows of logits [m * classes] (read back) have their largest entry at the label (the first on ties, as tf.argMax). */
export function countHits(logits: ArrayLike<number>, labels: ArrayLike<number>, classes: number): number {
  let hits = 0;
  for (let i = 0; i < labels.length; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (logits[i * classes + c] > logits[i * classes + best]) best = c;
    if (best === labels[i]) hits++;
  }
  return hits;
}
