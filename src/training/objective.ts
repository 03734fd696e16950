/**
 * A training objective: the loss of a batch to minimise and the clean batch's
 * logits (read back for the reported accuracy). The models table names each
 * model's objective: the plain NLL, or AdvNet's (advnet.ts).
 */
import type * as tf from '@tensorflow/tfjs';
import { MODEL_TABLE, type NetSpec } from '../experiments/models.js';
import type { TrainConfig } from '../experiments/types.js';
import type { Net } from '../paper/net.js';
import type { GlanceDraw } from '../paper/transforms.js';
import { advNetObjective } from './advnet.js';
import { meanNll } from './loss.js';

export interface Batch {
  x: tf.Tensor2D;
  y: tf.Tensor1D;
  /** The model's transform draw for this batch (randomised models). */
  draw?: GlanceDraw;
}

export interface Objective {
  /** Work done outside the gradient tape before the step (AdvNet: crafting the FGSM batch); its result is disposed after the step. */
  prepare?: (net: Net, batch: Batch) => tf.Tensor2D;
  /** Call inside the optimiser's minimize. */
  loss: (net: Net, batch: Batch, prepared?: tf.Tensor2D) => { loss: tf.Scalar; logits: tf.Tensor2D };
}

const clean: Objective = {
  loss: (net, batch) => {
    const logits = net.logits(batch.x, batch.draw);
    return { loss: meanNll(logits, batch.y), logits };
  },
};

export function objectiveOf(spec: NetSpec, cfg: TrainConfig): Objective {
  if (MODEL_TABLE[spec.model].objective !== 'advnet') return clean;
  const { advEps, advUnits, advMix } = cfg;
  if (advEps === undefined || advUnits === undefined || advMix === undefined) {
    throw new TypeError(`${spec.model} trains on FGSM examples: its training config needs advEps, advUnits and advMix, got ${JSON.stringify({ advEps, advUnits, advMix })}`);
  }
  return advNetObjective({ advEps, advUnits, advMix });
}
