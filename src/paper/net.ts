/**
 * A paper model bound to tensors: its weights by name (trainable ones as
 * variables, a frozen base layer as plain tensors, so no gradient work is done
 * for it) and its forward pass, NormalNet's or GlanceAgain's as the models table
 * says. Built from plain weights (init or a checkpoint); gives them back as plain
 * weights.
 */
import * as tf from '@tensorflow/tfjs';
import { baseFrozen, MODEL_TABLE, type NetSpec } from '../experiments/models.js';
import { glanceAgainLogits, initGlanceAgain } from './glance-again.js';
import { initNormalNet, normalNetLogits, type Params } from './normalnet.js';
import { Rng, Stream } from './rng.js';
import { drawGlance, type GlanceDraw } from './transforms.js';
import type { WeightSet } from './weights.js';

/** Fresh weights of a model from its seed; a model whose base layer comes from NormalNet takes it from `normalNet`. */
export function initWeights(spec: NetSpec, seed: number, normalNet?: WeightSet): WeightSet {
  const rng = new Rng(seed, Stream.init);
  return spec.model === 'GlanceAgain' ? initGlanceAgain(rng, spec, normalNet) : initNormalNet(rng);
}

/** Names of the weights a model trains (a frozen base layer stays fixed). */
export function trainableNames(spec: NetSpec, weights: WeightSet): string[] {
  return Object.keys(weights).filter((n) => !(baseFrozen(spec) && n.startsWith('base.')));
}

export class Net {
  readonly params: Params;
  /** The weights that train, as variables in the order of trainableNames. */
  readonly trainable: tf.Variable[];
  readonly randomized: boolean;

  constructor(
    readonly spec: NetSpec,
    weights: WeightSet,
  ) {
    const train = new Set(trainableNames(spec, weights));
    this.params = {};
    this.trainable = [];
    for (const [name, w] of Object.entries(weights)) {
      const t = tf.tensor(w.data, w.shape);
      if (!train.has(name)) {
        this.params[name] = t;
        continue;
      }
      const v = tf.variable(t, true);
      t.dispose();
      this.params[name] = v;
      this.trainable.push(v);
    }
    this.randomized = MODEL_TABLE[spec.model].randomized;
  }

  /** A fresh transform draw for n samples (undefined for a deterministic model). */
  draw(rng: Rng, n: number): GlanceDraw | undefined {
    return this.randomized ? drawGlance(rng, n) : undefined;
  }

  /** The logits [n, 10]; a randomised model needs the draw of its transforms. Call inside tf.tidy. */
  logits(x: tf.Tensor2D, draw?: GlanceDraw): tf.Tensor2D {
    if (this.spec.model !== 'GlanceAgain') return normalNetLogits(this.params, x);
    if (!draw) throw new Error('GlanceAgain needs a transform draw for its forward pass');
    return glanceAgainLogits(this.params, this.spec, x, draw);
  }

  /** Log-probabilities [n, 10]. Call inside tf.tidy. */
  forward(x: tf.Tensor2D, draw?: GlanceDraw): tf.Tensor2D {
    return tf.logSoftmax(this.logits(x, draw));
  }

  getWeights(): WeightSet {
    const out: WeightSet = {};
    for (const [name, t] of Object.entries(this.params)) out[name] = { shape: [...t.shape], data: (t.dataSync() as Float32Array).slice() };
    return out;
  }

  dispose(): void {
    for (const t of Object.values(this.params)) t.dispose();
  }
}
