/**
 * NormalNet's and AdvNet's training step written out: forward pass, loss and
 * backward pass as plain kernels (~15), with no autodiff tape. At batch 64 a step
 * costs per kernel, not per FLOP (bench/results.md), and tfjs's autodiff of the same
 * step ran ~75 kernels: an Identity clone of every saved tensor, the log-softmax
 * and NLL chains and their gradients, Step-based ReLU gradients. Here the loss and
 * its gradient come from one pass (loss.ts) and the ReLU gradient is one kernel on
 * native TensorFlow (relu.ts).
 *
 * Works for one model (x [n, 784], kernels [in, out], biases [out]) and for packed
 * replicates (x [R, n, 784], kernels [R, in, out], biases [R, 1, out]; packed.ts).
 * The objective is a weighted sum of per-example NLLs, sum_k scale_k * sum_i l_ki:
 * scale 1/n is the mean loss; AdvNet's mix * L(x) + (1 - mix) * L(x_adv) is two
 * passes with scales mix/n and (1 - mix)/n (train.ts, packed.ts).
 */
import * as tf from '@tensorflow/tfjs';
import type { EpsUnits } from '../experiments/types.js';
import { signStep } from '../attacks/fgsm.js';
import type { Adam } from './adam.js';
import { softmaxCrossEntropy } from './loss.js';
import { reluGrad } from './relu.js';

/** The weights by name: base.kernel, base.bias, out.kernel, out.bias. */
export type MlpParams = Record<string, tf.Tensor>;

/** One forward pass, with what the backward pass needs. */
export interface MlpPass {
  x: tf.Tensor;
  /** ReLU output of the base layer. */
  hidden: tf.Tensor;
  logits: tf.Tensor;
  /** Per-example NLL. */
  losses: tf.Tensor;
  /** d(NLL)/d(logits) per example: softmax - onehot. */
  backprop: tf.Tensor;
}

const mm = (a: tf.Tensor, b: tf.Tensor, transposeA = false, transposeB = false) =>
  tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D, transposeA, transposeB) as tf.Tensor;

/** A bias gradient: summed over the batch axis, in the bias's own shape ([out] or [R, 1, out]). */
const biasGrad = (dz: tf.Tensor) => tf.sum(dz, dz.rank - 2, dz.rank > 2);

/** Forward pass and per-example loss of labels y. Call inside tf.tidy. */
export function mlpForward(p: MlpParams, x: tf.Tensor, y: tf.Tensor): MlpPass {
  const hidden = tf.relu(tf.add(mm(x, p['base.kernel']), p['base.bias']));
  const logits = tf.add(mm(hidden, p['out.kernel']), p['out.bias']);
  return { x, hidden, logits, ...softmaxCrossEntropy(logits, y) };
}

/** d(objective)/d(hidden pre-activation), given d(objective)/d(logits). */
const hiddenGrad = (p: MlpParams, hidden: tf.Tensor, dLogits: tf.Tensor) =>
  reluGrad(mm(dLogits, p['out.kernel'], false, true), hidden);

/** The gradient of scale * sum_i l_i with respect to the pass's input x. Call inside tf.tidy. */
export function mlpInputGradient(p: MlpParams, pass: MlpPass, scale: number): tf.Tensor {
  return mm(hiddenGrad(p, pass.hidden, tf.mul(pass.backprop, scale)), p['base.kernel'], false, true);
}

/**
 * Gradients of sum_k scales[k] * sum_i l_ki over the passes, by weight name. The
 * passes are joined on the batch axis, so each weight gradient is one matmul.
 * Call inside tf.tidy.
 */
export function mlpGradients(p: MlpParams, passes: MlpPass[], scales: number[]): Record<string, tf.Tensor> {
  const join = (parts: tf.Tensor[]) => (parts.length === 1 ? parts[0] : tf.concat(parts, parts[0].rank - 2));
  const x = join(passes.map((q) => q.x));
  const hidden = join(passes.map((q) => q.hidden));
  const dLogits = join(passes.map((q, k) => tf.mul(q.backprop, scales[k])));
  const dHidden = hiddenGrad(p, hidden, dLogits);
  return {
    'base.kernel': mm(x, dHidden, true, false),
    'base.bias': biasGrad(dHidden),
    'out.kernel': mm(hidden, dLogits, true, false),
    'out.bias': biasGrad(dLogits),
  };
}

/** AdvNet's adversarial training: FGSM eps in units, and the weight of the clean loss. */
export interface AdversarialTraining {
  eps: number;
  units: EpsUnits;
  mix: number;
}

/** What one training step reports, read back: per-example losses of the objective's passes and the clean logits. */
export interface MlpStepResult {
  clean: Float32Array;
  adversarial?: Float32Array;
  logits: Float32Array;
}

/**
 * One Adam step of NormalNet, or of AdvNet when `adv` is given (FGSM against the
 * current weights from the clean pass's own gradient, then both passes' loss).
 * `names` are the optimiser's weights in its order. One model or packed replicates.
 */
export function mlpTrainStep(p: MlpParams, optimizer: Adam, names: string[], x: tf.Tensor, y: tf.Tensor, adv?: AdversarialTraining): MlpStepResult {
  const n = x.shape[x.rank - 2]!;
  const out = tf.tidy(() => {
    const clean = mlpForward(p, x, y);
    const passes = [clean];
    let scales = [1 / n];
    if (adv) {
      const xAdv = signStep(x as tf.Tensor2D, mlpInputGradient(p, clean, 1 / n) as tf.Tensor2D, adv.eps, adv.units, false);
      passes.push(mlpForward(p, xAdv, y));
      scales = [adv.mix / n, (1 - adv.mix) / n];
    }
    const grads = mlpGradients(p, passes, scales);
    optimizer.step(names.map((k) => grads[k]));
    return [clean.losses, clean.logits, ...(adv ? [passes[1].losses] : [])];
  });
  const [clean, logits, adversarial] = out.map((t) => t.dataSync() as Float32Array);
  tf.dispose(out);
  return { clean, logits, adversarial };
}
