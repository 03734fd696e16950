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

/** Said once when --backend auto fell back to wasm because the native backend is not built. */
export const NATIVE_HINT = 'native backend not built, using wasm: npm run native builds it, and it trains faster (README, "Set-up")';

/** Pixel: eps in [0,1] pixel units with clipping. Normalized: eps in units of (x - 0.1307) / 0.3081, unclipped. */
export const EPS_UNITS = ['pixel', 'normalized'] as const;
export type EpsUnits = (typeof EPS_UNITS)[number];

export const THREATS = ['clean', 'transfer', 'white-box'] as const;
export type ThreatModel = (typeof THREATS)[number];

export const ATTACKS = ['none', 'fgsm', 'fgsm-targeted', 'eot-fgsm', 'pgd', 'eot-pgd', 'noise', 'square'] as const;
export type AttackName = (typeof ATTACKS)[number];

/** Attacks that follow the loss gradient (the others: 'noise', random signs; 'square', a score-based search). */
export const GRADIENT_ATTACKS: readonly AttackName[] = ['fgsm', 'fgsm-targeted', 'eot-fgsm', 'pgd', 'eot-pgd'];

/** PGD's loss: cross-entropy, Carlini-Wagner's margin max_{j != y} z_j - z_y, or AutoAttack's DLR. */
export const PGD_LOSSES = ['ce', 'cw', 'dlr'] as const;
export type PgdLoss = (typeof PGD_LOSSES)[number];

export const ATTACK_GRADIENTS = ['stable', 'float32'] as const;
export type AttackGradient = (typeof ATTACK_GRADIENTS)[number];

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
  /**
   * The units AdvNet was trained in, when AdvNet is the model or the attack's source
   * (experiments/readings.ts). Absent in results of an older glance, whose one AdvNet
   * was trained in its config's train.advUnits.
   */
  advUnits?: EpsUnits;
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
  /** Per-example correctness over [start, end): experiments/example-bits.ts. Absent in results of older versions. */
  correctBits?: string;
  /**
   * How the attack's loss gradient was computed: 'stable' (the label entry of dNLL/dlogits as
   * -sum of the other probabilities) or 'float32' (the paper's numerics). Set on GRADIENT_ATTACKS
   * only ('none', 'noise' and 'square' take no gradient); absent on a gradient attack: float32 (older results).
   */
  gradient?: AttackGradient;
  /**
   * The attack as run, every default filled in (EOT draws K, PGD steps, step size, random start, target
   * choice; PGD's restarts and loss; Square's query budget).
   */
  attackParams?: {
    eotSamples: number;
    steps: number;
    stepSize: number;
    randomStart: boolean;
    target: string;
    restarts?: number;
    loss?: PgdLoss;
    queries?: number;
  };
}

/** AdvNet's adversarial training: FGSM eps, its units, and the weight of the clean loss. */
export interface AdvTrainConfig {
  advEps: number;
  advUnits: EpsUnits;
  advMix: number;
}

/**
 * How one model is trained, as its checkpoint manifest records it. AdvNet's
 * fields are there for AdvNet (manifests of an older glance carry them for every
 * model, where they meant nothing).
 */
export interface TrainConfig extends Partial<AdvTrainConfig> {
  epochs: number;
  batchSize: number;
  lr: number;
  /** Train on the first `limit` images of the train split (smoke runs and tests); all when absent. */
  limit?: number;
}

/**
 * Training settings of an experiment. AdvNet is trained once per eps reading:
 * `advUnits` lists the units of those readings (experiments/readings.ts).
 */
export interface ExperimentTrainConfig extends Omit<TrainConfig, keyof AdvTrainConfig>, Omit<AdvTrainConfig, 'advUnits'> {
  advUnits: EpsUnits[];
}

export const DEFAULT_TRAIN: TrainConfig & AdvTrainConfig = { epochs: 15, batchSize: 64, lr: 1e-3, advEps: 0.3, advUnits: 'pixel', advMix: 0.5 };

/** One epoch of training as reported. */
export interface EpochReport {
  epoch: number;
  epochs: number;
  loss: number;
  /** Accuracy (%) on the clean training batches seen this epoch, as they were trained. */
  accuracy: number;
  samplesPerSec: number;
  seconds: number;
}

/** A trained model as the run store records it. */
export interface TrainRecord {
  model: ModelName;
  seed: number;
  /** AdvNet: the units of its training eps (its reading). */
  advUnits?: EpsUnits;
  checkpoint: string;
  history: EpochReport[];
  backend: BackendInfo;
  /** Set when the model was not trained in this run but copied (--reuse-checkpoints). */
  reusedFrom?: string;
}

/** What a worker returns for a job. */
export interface JobOutcome {
  train?: TrainRecord;
  results?: EvalResult[];
  seconds: number;
}

/** Progress a job reports while it runs. */
export interface JobProgress {
  /** 0..1 of the job. */
  fraction: number;
  /** Short human text: "epoch 3/15", "batch 4/20". */
  detail: string;
  samplesPerSec?: number;
}
