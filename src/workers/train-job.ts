/**
 * A training job: one model of one seed, trained and saved as a checkpoint. A
 * model whose base layer comes from another model (the models table) starts from
 * that model's checkpoint of the same seed.
 */
import type { SharedDataset } from '../data/shared.js';
import { splitView } from '../data/shared.js';
import type { TrainJob } from '../experiments/grid.js';
import { baseSource, checkpointName, netSpec } from '../experiments/models.js';
import { modelTrainConfig } from '../experiments/readings.js';
import type { BackendInfo, JobProgress, TrainRecord } from '../experiments/types.js';
import { initWeights } from '../paper/net.js';
import { configHash } from '../experiments/config-hash.js';
import { loadCheckpoint, saveCheckpoint } from '../training/checkpoint.js';
import { trainNet } from '../training/train.js';
import type { WorkerTask } from './protocol.js';

export function runTrainJob(job: TrainJob, task: WorkerTask, dataset: SharedDataset, backend: BackendInfo, sink: (p: JobProgress) => void): TrainRecord {
  const config = task.config;
  const spec = netSpec(job.model, config);
  const from = baseSource(spec);
  const base = from
    ? loadCheckpoint(task.checkpointDir, checkpointName(from, job.seed), { spec: netSpec(from, config), dataFingerprint: dataset.fingerprint, seed: job.seed, configHash: configHash(config) }).weights
    : undefined;
  const train = modelTrainConfig(config.train, job.model, job.advUnits);
  const epochs = train.epochs;
  const { weights, history } = trainNet(spec, initWeights(spec, job.seed, base), splitView(dataset, 'train'), train, job.seed, {
    onProgress: (p) => sink({ fraction: (p.epoch - 1 + p.done / p.total) / epochs, detail: `epoch ${p.epoch}/${epochs}`, samplesPerSec: p.samplesPerSec }),
    onEpoch: (r) =>
      sink({ fraction: r.epoch / epochs, detail: `epoch ${r.epoch}/${epochs} loss ${r.loss.toFixed(3)} acc ${r.accuracy.toFixed(1)}%`, samplesPerSec: r.samplesPerSec }),
  });
  const name = checkpointName(job.model, job.seed, job.advUnits);
  saveCheckpoint(task.checkpointDir, name, weights, {
    spec,
    config: train,
    seed: job.seed,
    backend,
    versions: task.versions,
    dataFingerprint: dataset.fingerprint,
    configHash: configHash(config),
    history,
  });
  return { model: job.model, seed: job.seed, ...(job.advUnits ? { advUnits: job.advUnits } : {}), checkpoint: name, history, backend };
}
