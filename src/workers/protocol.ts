/**
 * What crosses the thread boundary, as plain data: a task in, an outcome out
 * (JobOutcome, experiments/types.ts), progress posted on a MessagePort.
 */
import type { MessagePort } from 'node:worker_threads';
import type { SharedDataset } from '../data/shared.js';
import type { ExperimentConfig } from '../experiments/config.js';
import type { Job } from '../experiments/grid.js';
import type { BackendChoice, JobProgress } from '../experiments/types.js';

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
