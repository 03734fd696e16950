/**
 * The eps readings of AdvNet. The paper leaves eps units open, so a run may read
 * eps in pixel units, in normalized units, or both; AdvNet's adversarial
 * training takes its eps in the same units as the attacks it is measured
 * against, so each reading trains an AdvNet of its own:
 *   train/AdvNet@pixel/seed1       checkpoint AdvNet@pixel-seed1       evaluated in the pixel reading
 *   train/AdvNet@normalized/seed1  checkpoint AdvNet@normalized-seed1  evaluated in the normalized reading
 * NormalNet and GlanceAgain do not depend on the units and are trained once.
 *
 * A store of an older glance has `train.advUnits` as one unit rather than a list:
 * it trained one AdvNet (ids and checkpoint without the tag) and evaluated it in
 * every reading. Such a store is read (status, report) with that grid and is not
 * resumed (store.ts). Pure: no tfjs.
 */
import type { ExperimentConfig } from './config.js';
import { MODEL_TABLE } from './models.js';
import type { EvalResult, EpsUnits, ModelName, TrainConfig } from './types.js';

export interface AdvTraining {
  /** The units of AdvNet's training eps. */
  units: EpsUnits;
  /** The eps units its evaluations use: its own reading (an older store's single AdvNet: every unit). */
  readings: EpsUnits[];
  /** Set for an older store's single AdvNet: its ids and checkpoint carry no reading. */
  legacy?: true;
}

/** Whether the model is trained adversarially (AdvNet), so that it has a training per reading. */
export const isAdversarial = (model: ModelName) => MODEL_TABLE[model].objective === 'advnet';

/** The single training unit of a store written before AdvNet was trained per reading, if the config is one. */
export function legacyAdvUnits(config: Pick<ExperimentConfig, 'train'>): EpsUnits | undefined {
  const units: unknown = config.train.advUnits;
  return typeof units === 'string' ? (units as EpsUnits) : undefined;
}

/** The AdvNets an experiment trains, one per reading among its eps units. */
export function advTrainings(config: Pick<ExperimentConfig, 'train' | 'epsUnits'>): AdvTraining[] {
  const legacy = legacyAdvUnits(config);
  if (legacy) return [{ units: legacy, readings: config.epsUnits, legacy: true }];
  return config.train.advUnits.filter((u) => config.epsUnits.includes(u)).map((u) => ({ units: u, readings: [u] }));
}

/** The suffix of a trained model's job ids and checkpoint name: '@normalized' for AdvNet of that reading, else ''. */
export const readingTag = (model: ModelName, advUnits?: EpsUnits) => (advUnits && isAdversarial(model) ? `@${advUnits}` : '');

/** How one model of the experiment trains: AdvNet with its reading's units, the others without AdvNet's settings. */
export function modelTrainConfig(train: ExperimentConfig['train'], model: ModelName, advUnits?: EpsUnits): TrainConfig {
  const { advEps, advMix, advUnits: _readings, ...common } = train;
  if (!isAdversarial(model)) return common;
  if (!advUnits) throw new TypeError(`modelTrainConfig: ${model} is trained per eps reading and needs its units`);
  return { ...common, advEps, advUnits, advMix };
}

/**
 * Results with `advUnits` filled in where AdvNet is the model or the source: a
 * result of an older glance does not record it, and its store's config names
 * the one unit its AdvNet was trained in.
 */
export function withAdvUnits(results: EvalResult[], config: Pick<ExperimentConfig, 'train'>): EvalResult[] {
  const legacy = legacyAdvUnits(config);
  if (!legacy) return results;
  const involved = (r: EvalResult) => isAdversarial(r.model) || (r.source !== undefined && isAdversarial(r.source));
  return results.map((r) => (r.advUnits === undefined && involved(r) ? { ...r, advUnits: legacy } : r));
}
