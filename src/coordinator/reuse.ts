/**
 * Reusing trained models across runs (--reuse-checkpoints DIR): a training job
 * whose model, seed, training config and data match a checkpoint in DIR takes a
 * copy of it instead of training again, so a sweep after a paper run (same seeds,
 * same training) only evaluates. The checkpoint is validated (shape, SHA-256)
 * before it is trusted, and the store says where it came from. A pack job (--pack)
 * is reused only when every one of its seeds matches. How a model was packed
 * (its manifest's config.packedWith) does not stop reuse: a packed replicate equals
 * its seed trained alone up to float summation order.
 */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExperimentConfig } from '../experiments/config.js';
import { jobSeeds, type TrainJob } from '../experiments/grid.js';
import { checkpointExists, checkpointFiles, loadCheckpoint, type CheckpointManifest } from '../models/checkpoint.js';
import { checkpointName, netSpec } from '../workers/spec.js';
import { configDiff, type RunStore, type TrainRecord } from './store.js';

/** The seeds a checkpoint's model was packed with, recorded in its manifest's training config. */
export function packedWithOf(manifest: Pick<CheckpointManifest, 'config'>): number[] | undefined {
  return (manifest.config as { packedWith?: number[] }).packedWith;
}

function matching(job: TrainJob, seed: number, config: ExperimentConfig, dataFingerprint: string, from: string): CheckpointManifest | undefined {
  const name = checkpointName(job.model, seed);
  if (!checkpointExists(from, name)) return undefined;
  let manifest: CheckpointManifest;
  try {
    ({ manifest } = loadCheckpoint(from, name, { spec: netSpec(job.model, config), dataFingerprint }));
  } catch {
    return undefined;
  }
  const { packedWith: _, ...trainConfig } = manifest.config as CheckpointManifest['config'] & { packedWith?: number[] };
  if (manifest.seed !== seed || configDiff(trainConfig, config.train).length) return undefined;
  return manifest;
}

/** Copies the job's matching checkpoints into the store and records the job as done; false when any seed has none. */
export function reuseCheckpoint(job: TrainJob, config: ExperimentConfig, dataFingerprint: string, from: string, store: RunStore): boolean {
  const seeds = jobSeeds(job);
  const manifests = seeds.map((seed) => matching(job, seed, config, dataFingerprint, from));
  if (manifests.some((m) => m === undefined)) return false;
  const records: TrainRecord[] = seeds.map((seed, k) => {
    const manifest = manifests[k]!;
    const name = checkpointName(job.model, seed);
    const src = checkpointFiles(from, name);
    const dst = checkpointFiles(store.checkpointDir, name);
    // Weights first, manifest last: a manifest's presence means complete weights.
    copyFileSync(src.weights, dst.weights);
    copyFileSync(src.manifest, dst.manifest);
    const packedWith = packedWithOf(manifest);
    return {
      model: job.model,
      seed,
      checkpoint: name,
      history: manifest.history,
      backend: manifest.backend,
      reusedFrom: join(from, `${name}.json`),
      ...(packedWith ? { packedWith } : {}),
    };
  });
  store.append({
    jobId: job.id,
    status: 'done',
    seconds: 0,
    attempt: 1,
    ...(job.seeds ? { trains: records } : { train: records[0] }),
    at: new Date().toISOString(),
  });
  return true;
}
