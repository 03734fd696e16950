/**
 * The paper's two architectures as functions of named weights.
 *  - NormalNet / AdvNet: dense 784->100 ReLU -> dense 100->10 -> log-softmax.
 *  - GlanceAgain: 6 transformed copies of the input -> dense 784->100 ReLU ->
 *    dense 100->784 ReLU (the vision body, one matmul over all 6 images) ->
 *    LSTM(64) -> LSTM(64) -> last hidden state -> dense 64->10 -> log-softmax.
 * The first dense layer is called `base` in both, so GlanceAgain can take it from
 * the trained NormalNet of the same seed (frozen, fine-tune) or start afresh.
 */
import * as tf from '@tensorflow/tfjs';
import type { BaseLayer, ModelName, Resampling } from '../experiments/types.js';
import { lstmLayer } from './lstm.js';
import { relu } from './relu.js';
import { Rng, Stream } from './rng.js';
import { glanceSequence, type GlanceDraw, drawGlance, GLANCE_STEPS } from './transforms.js';
import { denseInit, uniform, cloneWeights, type WeightSet } from './weights.js';

export const PIXELS = 784;
export const HIDDEN = 100;
export const CLASSES = 10;
export const LSTM_UNITS = 64;

export interface NetSpec {
  model: ModelName;
  /** GlanceAgain only: where its first dense layer comes from and whether it trains. */
  baseLayer?: BaseLayer;
  resampling?: Resampling;
}

export const isRandomized = (model: ModelName) => model === 'GlanceAgain';

/** Fresh weights for a model from its seed. GlanceAgain with frozen/fine-tune takes `base.*` from NormalNet's weights. */
export function initWeights(spec: NetSpec, seed: number, normalNet?: WeightSet): WeightSet {
  const rng = new Rng(seed, Stream.init);
  if (!isRandomized(spec.model)) {
    return { ...denseInit(rng, 'base', PIXELS, HIDDEN), ...denseInit(rng, 'out', HIDDEN, CLASSES) };
  }
  const base = spec.baseLayer ?? 'frozen';
  const fresh = denseInit(rng, 'base', PIXELS, HIDDEN);
  let baseWeights = fresh;
  if (base !== 'scratch') {
    if (!normalNet) throw new Error(`GlanceAgain with base layer "${base}" needs the trained NormalNet weights of its seed`);
    baseWeights = cloneWeights({ 'base.kernel': normalNet['base.kernel'], 'base.bias': normalNet['base.bias'] });
  }
  const k = 1 / Math.sqrt(LSTM_UNITS);
  const lstm = (name: string, inSize: number): WeightSet => ({
    [`${name}.input`]: uniform(rng, [inSize, 4 * LSTM_UNITS], k),
    [`${name}.recurrent`]: uniform(rng, [LSTM_UNITS, 4 * LSTM_UNITS], k),
    [`${name}.bias`]: uniform(rng, [4 * LSTM_UNITS], k),
  });
  return {
    ...baseWeights,
    ...denseInit(rng, 'decode', HIDDEN, PIXELS),
    ...lstm('lstm1', PIXELS),
    ...lstm('lstm2', LSTM_UNITS),
    ...denseInit(rng, 'out', LSTM_UNITS, CLASSES),
  };
}

/** Names of the weights a model trains (GlanceAgain frozen keeps base.* fixed). */
export function trainableNames(spec: NetSpec, weights: WeightSet): string[] {
  const frozen = isRandomized(spec.model) && (spec.baseLayer ?? 'frozen') === 'frozen';
  return Object.keys(weights).filter((n) => !(frozen && n.startsWith('base.')));
}

/** Expected shapes, for validating checkpoints. */
export function weightShapes(spec: NetSpec): Record<string, number[]> {
  const w = initWeights({ ...spec, baseLayer: 'scratch' }, 0);
  return Object.fromEntries(Object.entries(w).map(([k, v]) => [k, v.shape]));
}

/** A model bound to tensors. Frozen weights are plain tensors, so no gradient work is done for them. */
export class Net {
  readonly params: Record<string, tf.Tensor>;
  /** The weights that train (trainableNames below), as variables in that order. */
  readonly trainable: tf.Variable[];
  readonly trainableNames: string[];
  readonly randomized: boolean;

  constructor(
    readonly spec: NetSpec,
    weights: WeightSet,
  ) {
    this.trainableNames = trainableNames(spec, weights);
    const train = new Set(this.trainableNames);
    this.params = {};
    for (const [name, w] of Object.entries(weights)) {
      const t = tf.tensor(w.data, w.shape);
      if (train.has(name)) {
        this.params[name] = tf.variable(t, true, undefined);
        t.dispose();
      } else {
        this.params[name] = t;
      }
    }
    this.trainable = this.trainableNames.map((name) => this.params[name] as tf.Variable);
    this.randomized = isRandomized(spec.model);
  }

  /** A fresh transform draw for n samples (undefined for a deterministic model). */
  draw(rng: Rng, n: number): GlanceDraw | undefined {
    return this.randomized ? drawGlance(rng, n) : undefined;
  }

  /** Log-probabilities [n, 10]. GlanceAgain needs the draw of its transforms. Call inside tf.tidy. */
  forward(x: tf.Tensor2D, draw?: GlanceDraw): tf.Tensor2D {
    return tf.logSoftmax(this.logits(x, draw));
  }

  /** The logits [n, 10] (forward's input to the log-softmax). Call inside tf.tidy. */
  logits(x: tf.Tensor2D, draw?: GlanceDraw): tf.Tensor2D {
    const p = this.params as Record<string, tf.Tensor2D>;
    if (!this.randomized) {
      const h = relu(tf.add(tf.matMul(x, p['base.kernel']), p['base.bias']));
      return tf.add(tf.matMul(h, p['out.kernel']), p['out.bias']);
    }
    if (!draw) throw new Error('GlanceAgain.forward needs a transform draw');
    const n = x.shape[0];
    const seq = tf.reshape(glanceSequence(x, draw, this.spec.resampling ?? 'bilinear'), [n * GLANCE_STEPS, PIXELS]);
    const h1 = relu(tf.add(tf.matMul(seq, p['base.kernel']), p['base.bias']));
    const h2 = relu(tf.add(tf.matMul(h1, p['decode.kernel']), p['decode.bias']));
    const l1 = lstmLayer(tf.reshape(h2, [n, GLANCE_STEPS, PIXELS]) as tf.Tensor3D, {
      inputKernel: p['lstm1.input'],
      recurrentKernel: p['lstm1.recurrent'],
      bias: p['lstm1.bias'],
    });
    const l2 = lstmLayer(l1, {
      inputKernel: p['lstm2.input'],
      recurrentKernel: p['lstm2.recurrent'],
      bias: p['lstm2.bias'],
    });
    const last = tf.reshape(tf.slice(l2, [0, GLANCE_STEPS - 1, 0], [n, 1, LSTM_UNITS]), [n, LSTM_UNITS]);
    return tf.add(tf.matMul(last, p['out.kernel']), p['out.bias']);
  }

  getWeights(): WeightSet {
    const out: WeightSet = {};
    for (const [name, t] of Object.entries(this.params)) {
      out[name] = { shape: [...t.shape], data: t.dataSync() as Float32Array };
      out[name].data = out[name].data.slice();
    }
    return out;
  }

  dispose(): void {
    for (const t of Object.values(this.params)) t.dispose();
  }
}

/** Mean negative log-likelihood of labels under log-probabilities. */
export function nllLoss(logProbs: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.neg(tf.mean(tf.sum(tf.mul(logProbs, tf.oneHot(labels, CLASSES)), 1))) as tf.Scalar;
}
