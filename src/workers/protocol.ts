/**
 * What crosses the thread boundary, as plain data: a task in, an outcome out,
 * progress over a MessagePort (wrapped with comlink on both ends).
 */
import type { MessagePort } from 'node:worker_threads';
import type { SharedDataset } from '../data/shared.js';
import type { ExperimentConfig } from '../experiments/config.js';
import type { Job } from '../experiments/grid.js';
import type { BackendChoice, EvalResult } from '../experiments/types.js';
import type { TrainRecord } from '../coordinator/store.js';

/** Given once to every worker thread. */
export interface WorkerInit {
  dataset: SharedDataset;
  backend: BackendChoice;
  /** Int32 lock shared by the workers: one thread at a time initialises its backend. */
  initLock: SharedArrayBuffer;
}

export interface WorkerTask {
  job: Job;
  config: ExperimentConfig;
  checkpointDir: string;
  /** Versions recorded in checkpoints. */
  versions: Record<string, string>;
  progress?: MessagePort;
}

/** Asks a worker which backend it selected (loading it if it had not yet): no job runs. */
export interface BackendQuery {
  query: 'backend';
}

export interface JobOutcome {
  train?: TrainRecord;
  /** A pack's models, one per seed in the job's order. */
  trains?: TrainRecord[];
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

export interface ProgressSink {
  progress(p: JobProgress): void;
}
