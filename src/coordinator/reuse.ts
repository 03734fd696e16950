/**
 * Reusing trained models across runs (--reuse-checkpoints DIR): a training job
 * whose model, seed, training config and data match a checkpoint in DIR takes a
 * copy of it instead of training again, so a sweep after a paper run (same seeds,
 * same training) only evaluates. The checkpoint is validated (shape, SHA-256)
 * before it is trusted, and the store says where it came from.
 */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExperimentConfig } from '../experiments/config.js';
import type { TrainJob } from '../experiments/grid.js';
import { checkpointExists, checkpointFiles, loadCheckpoint } from '../models/checkpoint.js';
import { checkpointName, netSpec } from '../workers/spec.js';
import { configDiff, type RunStore } from './store.js';

/** Copies a matching checkpoint into the store and records the job as done; false when none matches. */
export function reuseCheckpoint(job: TrainJob, config: ExperimentConfig, dataFingerprint: string, from: string, store: RunStore): boolean {
  const name = checkpointName(job.model, job.seed);
  if (!checkpointExists(from, name)) return false;
  let manifest;
  try {
    ({ manifest } = loadCheckpoint(from, name, { spec: netSpec(job.model, config), dataFingerprint }));
  } catch {
    return false;
  }
  if (manifest.seed !== job.seed || configDiff(manifest.config, config.train).length) return false;
  const src = checkpointFiles(from, name);
  const dst = checkpointFiles(store.checkpointDir, name);
  // Weights first, manifest last: a manifest's presence means complete weights.
  copyFileSync(src.weights, dst.weights);
  copyFileSync(src.manifest, dst.manifest);
  store.append({
    jobId: job.id,
    status: 'done',
    seconds: 0,
    attempt: 1,
    train: { model: job.model, seed: job.seed, checkpoint: name, history: manifest.history, backend: manifest.backend, reusedFrom: join(from, `${name}.json`) },
    at: new Date().toISOString(),
  });
  return true;
}
