/**
 * What crosses the thread boundary, as plain data: a task in, an outcome out
 * (JobOutcome, experiments/types.ts), progress posted on a MessagePort.
 */
import type { MessagePort } from 'node:worker_threads';
import type { SharedDataset } from '../data/shared.js';
import type { ExperimentConfig } from '../experiments/config.js';
import type { Job } from '../experiments/grid.js';
import type { BackendChoice, BackendInfo, EpsUnits, JobProgress } from '../experiments/types.js';

/** Given once to every worker thread. */
export interface WorkerInit {
  dataset: SharedDataset;
  backend: BackendChoice;
}

export interface WorkerTask {
  job: Job;
  config: ExperimentConfig;
  checkpointDir: string;
  /** Versions recorded in checkpoints. */
  versions: Record<string, string>;
  /** The worker posts JobProgress messages here; absent when nobody listens. */
  progress?: MessagePort;
}

/** Where a job reports its progress. */
export type ProgressSink = (p: JobProgress) => void;

/** What `glance gallery` asks of its worker thread: FGSM on a few images per trained model. */
export interface GalleryTask {
  backend: BackendChoice;
  checkpointDir: string;
  /** Each trained model of the gallery's seed: its checkpoint and the eps units to attack it in. */
  models: Array<{ label: string; checkpoint: string; units: EpsUnits[] }>;
  eps: number[];
  seed: number;
  /** The images, [n * 784] in [0, 1], and their labels. */
  images: Float32Array;
  labels: Int32Array;
}

/** One model attacked at one eps: the adversarial images and what the model predicts, clean and attacked. */
export interface GalleryPanel {
  label: string;
  eps: number;
  units: EpsUnits;
  /** [n * 784], pixels; normalized units are not clipped, so they may leave [0, 1]. */
  adversarial: Float32Array;
  cleanPredictions: number[];
  predictions: number[];
}

export interface GalleryOutcome {
  backend: BackendInfo;
  panels: GalleryPanel[];
}
