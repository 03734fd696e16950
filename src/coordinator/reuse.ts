/**
 * Reusing trained models across runs (--reuse-checkpoints DIR): a training job
 * whose model, seed, training config and data match a checkpoint in DIR takes a
 * copy of it instead of training again, so a sweep after a paper run (same seeds,
 * same training) only evaluates. AdvNet matches only an AdvNet trained in the
 * units of its reading (experiments/readings.ts); a store of an older glance named
 * its one AdvNet without them, and its manifest's units decide. The checkpoint is
 * validated (shape, SHA-256) before it is trusted, and the store says where it
 * came from.
 */
import { basename, join } from 'node:path';
import { copyAtomic, writeAtomic } from '../data/durable.js';
import type { ExperimentConfig } from '../experiments/config.js';
import { trainId, type Job, type TrainJob } from '../experiments/grid.js';
import { baseSource, checkpointName, netSpec } from '../experiments/models.js';
import { isAdversarial, modelTrainConfig } from '../experiments/readings.js';
import type { TrainRecord } from '../experiments/types.js';
import { checkpointExists, checkpointFiles, loadCheckpoint, type CheckpointManifest } from '../training/checkpoint.js';
import { configDiff, type RunStore, type StoreState } from './store.js';

/** The name and manifest of the checkpoint in `from` that can stand for the job's model, if there is one. */
function matching(job: TrainJob, config: ExperimentConfig, dataFingerprint: string, from: string): { name: string; manifest: CheckpointManifest } | undefined {
  const want = modelTrainConfig(config.train, job.model, job.advUnits);
  const names = [checkpointName(job.model, job.seed, job.advUnits), ...(isAdversarial(job.model) ? [checkpointName(job.model, job.seed)] : [])];
  for (const name of [...new Set(names)]) {
    if (!checkpointExists(from, name)) continue;
    let manifest: CheckpointManifest;
    try {
      ({ manifest } = loadCheckpoint(from, name, { spec: netSpec(job.model, config), dataFingerprint }));
    } catch {
      continue;
    }
    // An older glance trained some seeds together (their manifests list them as
    // packedWith); such a model is its seed's, trained the same way up to float
    // summation order, so it may stand for the job like any other. Its manifests
    // also gave every model AdvNet's settings, which only AdvNet's training uses.
    const { packedWith: _, ...recorded } = manifest.config as typeof manifest.config & { packedWith?: number[] };
    const { advEps: _e, advUnits: _u, advMix: _m, ...common } = recorded;
    const trained = isAdversarial(job.model) ? recorded : common;
    if (manifest.seed === job.seed && configDiff(trained, want).length === 0) return { name, manifest };
  }
  return undefined;
}

const reusedFrom = (from: string, name: string) => join(from, `${name}.json`);

/**
 * Copies into the store every matching model of `from` that the run has not
 * trained yet, each recorded as a done training job; returns their job ids. A
 * model built on another's trained layer (the models table's baseFrom) is taken
 * only together with that very model from the same directory, so it is never
 * evaluated beside a different copy of its base.
 */
export function reuseCheckpoints(jobs: Job[], config: ExperimentConfig, dataFingerprint: string, from: string, store: RunStore, state: StoreState): string[] {
  const reused: string[] = [];
  const pending = jobs.filter((j): j is TrainJob => j.kind === 'train' && state.lines.get(j.id)?.status !== 'done');
  // Bases first: repeat until a pass takes nothing.
  for (let progress = true; progress; ) {
    progress = false;
    for (const job of pending) {
      if (reused.includes(job.id)) continue;
      const base = baseSource(netSpec(job.model, config));
      if (base) {
        const line = state.lines.get(trainId(base, job.seed));
        const baseFrom = line?.status === 'done' ? line.train?.reusedFrom : undefined;
        if (baseFrom !== reusedFrom(from, checkpointName(base, job.seed))) continue;
      }
      const found = matching(job, config, dataFingerprint, from);
      if (!found) continue;
      const { manifest } = found;
      const name = checkpointName(job.model, job.seed, job.advUnits);
      const src = checkpointFiles(from, found.name);
      const dst = checkpointFiles(store.checkpointDir, name);
      // Weights first, manifest last: a manifest's presence means complete weights.
      copyAtomic(src.weights, dst.weights);
      // An older store's AdvNet is renamed to its reading's name: its manifest then names the renamed weights.
      if (found.name === name) copyAtomic(src.manifest, dst.manifest);
      else writeAtomic(dst.manifest, JSON.stringify({ ...manifest, weightsFile: basename(dst.weights) }, null, 2) + '\n');
      const train: TrainRecord = { model: job.model, seed: job.seed, ...(job.advUnits ? { advUnits: job.advUnits } : {}), checkpoint: name, history: manifest.history, backend: manifest.backend, reusedFrom: reusedFrom(from, found.name) };
      const line = { jobId: job.id, status: 'done' as const, seconds: 0, attempt: 1, train, at: new Date().toISOString() };
      store.append(line);
      state.lines.set(job.id, line);
      reused.push(job.id);
      progress = true;
    }
  }
  return reused;
}
