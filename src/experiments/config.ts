/**
 * An experiment as plain data: what to train, what to attack, how to evaluate.
 * Built from a preset, a --config file and command-line flags (in that order of
 * precedence, flags last), then validated once; everything downstream trusts it.
 */
import type { AttackGradient, AttackName, BackendChoice, PgdLoss, BaseLayer, EpsUnits, ModelName, Resampling, Split, ExperimentTrainConfig } from './types.js';

export interface ExperimentConfig {
  preset: string;
  /** A registry name (mnist, fashion-mnist) or, with dataDir, a label for that directory. */
  dataset: string;
  dataDir?: string;
  models: ModelName[];
  seeds: number[];
  train: ExperimentTrainConfig;
  glance: { baseLayer: BaseLayer; resampling: Resampling };
  eval: {
    split: Split;
    /** Evaluate on the first `limit` images of the split; all when absent. */
    limit?: number;
    batchSize: number;
    /** Each evaluation job is cut into this many slices of the split, run as separate jobs. */
    shards: number;
  };
  /** Attacks other than 'none' (clean accuracy is always measured). */
  attacks: AttackName[];
  threats: ('transfer' | 'white-box')[];
  /** The model transfer attacks are crafted on (the paper: NormalNet of the same seed). */
  transferSource: ModelName;
  eps: number[];
  epsUnits: EpsUnits[];
  eotSamples: number;
  /** PGD: steps, random start, random restarts (robust = survives each) and the loss ascended. */
  pgd: { steps: number; randomStart: boolean; restarts: number; loss: PgdLoss };
  /** Square: search iterations per image. */
  square: { queries: number };
  /**
   * Each gradient attack runs once per mode (attacks/loss.ts): 'stable', 'float32' (the paper's numerics).
   * Absent in a config of an older glance, whose gradient attacks were float32 and whose job ids carry no mode.
   */
  attackGradients?: AttackGradient[];
  /** An attack evaluated on the first n images of the evaluation slice only (costly attacks). */
  attackLimits: Partial<Record<AttackName, number>>;
  backend: BackendChoice;
}

/** A part of the grid a run may stop after: only the training jobs. */
export const STAGES = ['train', 'all'] as const;
export type Stage = (typeof STAGES)[number];

/** Options of a run that do not change its results (so a resume may change them). */
export interface RunOptions {
  out: string;
  workers: number;
  shard?: { index: number; count: number };
  /** 'train': run only the training jobs (the training array of `glance slurm`); absent: every job. */
  stage?: Stage;
  quiet: boolean;
  json: boolean;
  forceNew: boolean;
  /** Checkpoint directories of earlier runs whose matching trained models are reused. */
  reuseCheckpoints: string[];
}
