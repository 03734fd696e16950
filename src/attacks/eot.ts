/**
 * EOT-FGSM (Athalye et al. 2018, "Synthesizing robust adversarial examples" /
 * "Obfuscated gradients give a false sense of security"): against a randomised
 * model, step along the sign of the input gradient averaged over K independent
 * transform draws, E_t[grad_x L(t(x), y)], instead of the gradient of one draw.
 *
 * The K draws run as stacked batches: x is tiled K times, the K draws are
 * concatenated, and the gradient with respect to the tiled input is reshaped to
 * [K, n, 784] and summed over K in a fixed order. Stacks are split into chunks of
 * at most `maxRows` rows (memory); each row's gradient is that of the SUM of the
 * per-row losses, so it does not depend on how the rows were chunked, and the
 * mean over K draws and n samples is applied once at the end.
 * For a deterministic model every draw is the same and the result is the FGSM
 * gradient itself.
 */
import * as tf from '@tensorflow/tfjs';
import { PIXELS } from '../experiments/models.js';
import type { Net } from '../paper/net.js';
import { concatDraws, type GlanceDraw } from '../paper/transforms.js';
import { inputGradient } from './fgsm.js';
import { type AttackObjective, FLOAT32_CE } from './loss.js';
import type { BatchRandom } from './random.js';

/** Rows (samples x draws) of one stacked forward/backward pass. */
export const EOT_MAX_ROWS = 2048;

/**
 * The input gradient averaged over the given draws (one per entry, each for all n
 * samples): (1/K) sum_k grad_x meanLoss(net(x, draws[k]), labels) (loss.ts). Call inside tf.tidy.
 */
export function eotGradient(
  net: Net,
  x: tf.Tensor2D,
  labels: tf.Tensor1D,
  draws: readonly GlanceDraw[],
  maxRows = EOT_MAX_ROWS,
  objective: AttackObjective = FLOAT32_CE,
): tf.Tensor2D {
  const n = x.shape[0];
  const K = draws.length;
  if (K === 0) throw new RangeError('eotGradient: needs at least one draw');
  const perChunk = Math.max(1, Math.floor(maxRows / Math.max(n, 1)));
  let sum: tf.Tensor2D | undefined;
  for (let k0 = 0; k0 < K; k0 += perChunk) {
    const chunk = draws.slice(k0, k0 + perChunk);
    const kc = chunk.length;
    const parts = tf.tidy(() => {
      const xs = tf.tile(x, [kc, 1]) as tf.Tensor2D;
      const g = inputGradient(net, xs, tf.tile(labels, [kc]) as tf.Tensor1D, concatDraws(chunk), objective);
      return tf.unstack(tf.reshape(g, [kc, n, PIXELS])) as tf.Tensor2D[];
    });
    for (const p of parts) sum = sum ? (tf.add(sum, p) as tf.Tensor2D) : p;
  }
  return tf.div(sum!, K * n);
}

/**
 * The attack gradient of K draws from `random`: for K = 1, or for a deterministic
 * model, the plain single-draw gradient (inputGradient); else eotGradient.
 * Call inside tf.tidy.
 */
export function expectedGradient(
  net: Net,
  x: tf.Tensor2D,
  labels: tf.Tensor1D,
  K: number,
  random: BatchRandom,
  objective: AttackObjective = FLOAT32_CE,
): tf.Tensor2D {
  if (!net.randomized) return inputGradient(net, x, labels, undefined, objective);
  if (K === 1) return inputGradient(net, x, labels, random.draw(net), objective);
  const draws: GlanceDraw[] = [];
  for (let k = 0; k < K; k++) draws.push(random.draw(net)!);
  return eotGradient(net, x, labels, draws, EOT_MAX_ROWS, objective);
}
