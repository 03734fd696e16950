/**
 * GlanceAgain: each image becomes a sequence of 6 (the image, then rotate, rotate,
 * rotate, scale, rotate, each applied to the previous output, with a fresh draw
 * per sample and forward pass: transforms.ts); each of the 6 goes through the
 * vision body, NormalNet's first layer followed by a dense 100 -> 784 ReLU in
 * place of its last layer; the 6 outputs feed two stacked LSTM(64); the last
 * hidden state goes through dense 64 -> 10. By default the first layer (`base`)
 * is NormalNet's of the same seed, frozen ("we do not re-train the entire vision
 * model"); fine-tune trains it on, scratch starts it afresh.
 */
import * as tf from '@tensorflow/tfjs';
import { GLANCE_STEPS, LSTM_UNITS, PIXELS, HIDDEN, CLASSES, type NetSpec } from '../experiments/models.js';
import { lstm } from '../ops/lstm.js';
import { dense, type Params } from './normalnet.js';
import type { Rng } from './rng.js';
import { glanceSequence, type GlanceDraw } from './transforms.js';
import { cloneWeights, denseInit, uniform, type WeightSet } from './weights.js';

type GlanceSpec = Extract<NetSpec, { model: 'GlanceAgain' }>;

/**
 * Fresh weights from the init stream of a seed. `base.*` is drawn in any case (so
 * the other draws do not depend on the option) and replaced by NormalNet's unless
 * the base layer is 'scratch'.
 */
export function initGlanceAgain(rng: Rng, spec: GlanceSpec, normalNet?: WeightSet): WeightSet {
  let base = denseInit(rng, 'base', PIXELS, HIDDEN);
  if (spec.baseLayer !== 'scratch') {
    if (!normalNet) throw new Error(`GlanceAgain with base layer "${spec.baseLayer}" needs the trained NormalNet weights of its seed`);
    base = cloneWeights({ 'base.kernel': normalNet['base.kernel'], 'base.bias': normalNet['base.bias'] });
  }
  const k = 1 / Math.sqrt(LSTM_UNITS);
  const lstmInit = (name: string, inSize: number): WeightSet => ({
    [`${name}.input`]: uniform(rng, [inSize, 4 * LSTM_UNITS], k),
    [`${name}.recurrent`]: uniform(rng, [LSTM_UNITS, 4 * LSTM_UNITS], k),
    [`${name}.bias`]: uniform(rng, [4 * LSTM_UNITS], k),
  });
  return {
    ...base,
    ...denseInit(rng, 'decode', HIDDEN, PIXELS),
    ...lstmInit('lstm1', PIXELS),
    ...lstmInit('lstm2', LSTM_UNITS),
    ...denseInit(rng, 'out', LSTM_UNITS, CLASSES),
  };
}

const lstmLayer = (p: Params, name: string, x: tf.Tensor3D) =>
  lstm(x, {
    inputKernel: p[`${name}.input`] as tf.Tensor2D,
    recurrentKernel: p[`${name}.recurrent`] as tf.Tensor2D,
    bias: p[`${name}.bias`] as tf.Tensor1D,
  });

/** x [n, 784] and a transform draw for its n samples -> logits [n, 10]. Call inside tf.tidy. */
export function glanceAgainLogits(p: Params, spec: GlanceSpec, x: tf.Tensor2D, draw: GlanceDraw): tf.Tensor2D {
  const n = x.shape[0];
  // The vision body as one matmul over all 6 images of all samples.
  const seq = tf.reshape(glanceSequence(x, draw, spec.resampling), [n * GLANCE_STEPS, PIXELS]);
  const body = tf.relu(dense(p, 'decode', tf.relu(dense(p, 'base', seq))));
  const h1 = lstmLayer(p, 'lstm1', tf.reshape(body, [n, GLANCE_STEPS, PIXELS]) as tf.Tensor3D);
  const h2 = lstmLayer(p, 'lstm2', h1);
  const last = tf.reshape(tf.slice(h2, [0, GLANCE_STEPS - 1, 0], [n, 1, LSTM_UNITS]), [n, LSTM_UNITS]);
  return dense(p, 'out', last);
}
