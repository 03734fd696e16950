/**
 * The paper's models as one table: what each one is built from, whether it is
 * randomised, which trained model its first layer comes from, and how it is
 * trained. The grid, validation, training, checkpoints and reuse consult this
 * table instead of testing model names. Pure: no tfjs.
 *
 *   model        architecture  randomised  base layer from  objective
 *   NormalNet    normalnet     no          -                clean NLL
 *   AdvNet       normalnet     no          -                mix * L(x) + (1 - mix) * L(FGSM(x))
 *   GlanceAgain  glance-again  yes         NormalNet        clean NLL   (base frozen / fine-tune; scratch: none)
 */
import type { ExperimentConfig } from './config.js';
import type { BaseLayer, EpsUnits, ModelName, Resampling } from './types.js';

export type Architecture = 'normalnet' | 'glance-again';
export type Objective = 'clean' | 'advnet';

export interface ModelEntry {
  architecture: Architecture;
  /** Draws fresh input transforms on every forward pass (so EOT applies). */
  randomized: boolean;
  /** The model whose trained first dense layer (`base.*`) this one starts from, unless its base layer is 'scratch'. */
  baseFrom?: ModelName;
  objective: Objective;
}

export const MODEL_TABLE: Readonly<Record<ModelName, ModelEntry>> = {
  NormalNet: { architecture: 'normalnet', randomized: false, objective: 'clean' },
  AdvNet: { architecture: 'normalnet', randomized: false, objective: 'advnet' },
  GlanceAgain: { architecture: 'glance-again', randomized: true, baseFrom: 'NormalNet', objective: 'clean' },
};

/** How a model is built: its name and, for GlanceAgain, its base layer and resampling. Stored in checkpoint manifests. */
export type NetSpec =
  | { model: 'NormalNet' | 'AdvNet' }
  | { model: 'GlanceAgain'; baseLayer: BaseLayer; resampling: Resampling };

export const isRandomized = (model: ModelName) => MODEL_TABLE[model].randomized;

/** The model a spec's base layer is taken from, or undefined when it trains its own (or has no such option). */
export function baseSource(spec: NetSpec): ModelName | undefined {
  const from = MODEL_TABLE[spec.model].baseFrom;
  return from && 'baseLayer' in spec && spec.baseLayer !== 'scratch' ? from : undefined;
}

/** Whether the spec's base layer stays fixed during training. */
export const baseFrozen = (spec: NetSpec) => 'baseLayer' in spec && spec.baseLayer === 'frozen';

/** The spec of `model` under an experiment's options. */
export function netSpec(model: ModelName, config: Pick<ExperimentConfig, 'glance'>): NetSpec {
  return model === 'GlanceAgain' ? { model, baseLayer: config.glance.baseLayer, resampling: config.glance.resampling } : { model };
}

/** A spec as read from a manifest of any version, with GlanceAgain's options filled in. */
export function normalizeSpec(spec: { model: ModelName; baseLayer?: BaseLayer; resampling?: Resampling }): NetSpec {
  if (spec.model !== 'GlanceAgain') return { model: spec.model };
  return { model: 'GlanceAgain', baseLayer: spec.baseLayer ?? 'frozen', resampling: spec.resampling ?? 'bilinear' };
}

export const describeSpec = (s: NetSpec) => ('baseLayer' in s ? `${s.model} (base layer ${s.baseLayer}, ${s.resampling})` : s.model);

/** The checkpoint of a model of a seed; AdvNet's carries its reading, 'AdvNet@normalized-seed1' (readings.ts). */
export const checkpointName = (model: ModelName, seed: number, advUnits?: EpsUnits) =>
  `${model}${advUnits && MODEL_TABLE[model].objective === 'advnet' ? `@${advUnits}` : ''}-seed${seed}`;

export const PIXELS = 784;
export const HIDDEN = 100;
export const CLASSES = 10;
export const LSTM_UNITS = 64;
/** The image, then rotate, rotate, rotate, scale, rotate, each applied to the previous one. */
export const GLANCE_STEPS = 6;

/** Every weight of an architecture by name, with its shape, in the order the weights are drawn at init. */
export function weightShapes(spec: NetSpec): Record<string, number[]> {
  const dense = (name: string, fanIn: number, fanOut: number) => ({ [`${name}.kernel`]: [fanIn, fanOut], [`${name}.bias`]: [fanOut] });
  const lstm = (name: string, inSize: number) => ({
    [`${name}.input`]: [inSize, 4 * LSTM_UNITS],
    [`${name}.recurrent`]: [LSTM_UNITS, 4 * LSTM_UNITS],
    [`${name}.bias`]: [4 * LSTM_UNITS],
  });
  if (MODEL_TABLE[spec.model].architecture === 'normalnet') return { ...dense('base', PIXELS, HIDDEN), ...dense('out', HIDDEN, CLASSES) };
  return {
    ...dense('base', PIXELS, HIDDEN),
    ...dense('decode', HIDDEN, PIXELS),
    ...lstm('lstm1', PIXELS),
    ...lstm('lstm2', LSTM_UNITS),
    ...dense('out', LSTM_UNITS, CLASSES),
  };
}
