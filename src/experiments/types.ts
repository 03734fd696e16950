/**
 * The plain-data vocabulary shared from the CLI to the workers and back to the
 * reports. Names follow the paper: NormalNet, AdvNet, GlanceAgain, transfer,
 * white-box, eps.
 */

export const MODELS = ['NormalNet', 'AdvNet', 'GlanceAgain'] as const;
export type ModelName = (typeof MODELS)[number];

export const BACKENDS = ['auto', 'node', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKENDS)[number];
export type BackendName = Exclude<BackendChoice, 'auto'>;

/** Pixel: eps in [0,1] pixel units with clipping. Normalized: eps in units of (x - 0.1307) / 0.3081, unclipped. */
export const EPS_UNITS = ['pixel', 'normalized'] as const;
export type EpsUnits = (typeof EPS_UNITS)[number];

export const THREATS = ['clean', 'transfer', 'white-box'] as const;
export type ThreatModel = (typeof THREATS)[number];

export const ATTACKS = ['none', 'fgsm', 'fgsm-targeted', 'eot-fgsm', 'pgd', 'eot-pgd'] as const;
export type AttackName = (typeof ATTACKS)[number];

export const BASE_LAYER = ['frozen', 'fine-tune', 'scratch'] as const;
export type BaseLayer = (typeof BASE_LAYER)[number];

export const RESAMPLING = ['bilinear', 'nearest'] as const;
export type Resampling = (typeof RESAMPLING)[number];

export const SPLITS = ['train', 'test'] as const;
export type Split = (typeof SPLITS)[number];

/** What the backend that produced a result was, recorded with every result. */
export interface BackendInfo {
  name: BackendName;
  tfjs: string;
  /** Native TensorFlow library version, for the node backend. */
  tensorflow?: string;
}

/** One evaluation result: the counts of one (model, seed, threat, attack, eps, units, shard). */
export interface EvalResult {
  kind: 'eval';
  dataset: string;
  model: ModelName;
  seed: number;
  threat: ThreatModel;
  attack: AttackName;
  /** Model the attack was crafted on (transfer: the source; white-box: the model itself). */
  source?: ModelName;
  eps: number;
  epsUnits: EpsUnits;
  split: Split;
  /** Half-open slice [start, end) of the split this result counts. */
  start: number;
  end: number;
  correct: number;
  total: number;
  /** For targeted attacks: how many adversarial images were classified as the target. */
  targetHits?: number;
  backend: BackendInfo;
  seconds: number;
  /** The attack as run, every default filled in (EOT draws K, PGD steps, step size, random start, target choice). */
  attackParams?: { eotSamples: number; steps: number; stepSize: number; randomStart: boolean; target: string };
}
