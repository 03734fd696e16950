/** How a job's model is built from the experiment config, and where its checkpoint lives. */
import type { ExperimentConfig } from '../experiments/config.js';
import type { ModelName } from '../experiments/types.js';
import type { NetSpec } from '../models/net.js';

export function netSpec(model: ModelName, config: ExperimentConfig): NetSpec {
  return model === 'GlanceAgain' ? { model, baseLayer: config.glance.baseLayer, resampling: config.glance.resampling } : { model };
}

export const checkpointName = (model: ModelName, seed: number) => `${model}-seed${seed}`;
