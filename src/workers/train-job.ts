/** A training job: NormalNet, AdvNet or GlanceAgain of one seed, saved as a checkpoint. */
import type { SharedDataset } from '../data/shared.js';
import { splitView } from '../data/shared.js';
import type { TrainJob } from '../experiments/grid.js';
import type { BackendInfo } from '../experiments/types.js';
import type { TrainRecord } from '../coordinator/store.js';
import { loadCheckpoint, saveCheckpoint } from '../models/checkpoint.js';
import { initWeights } from '../models/net.js';
import { trainNet } from '../models/train.js';
import type { ProgressSink, WorkerTask } from './protocol.js';
import { checkpointName, netSpec } from './spec.js';

export function runTrainJob(job: TrainJob, task: WorkerTask, dataset: SharedDataset, backend: BackendInfo, sink: ProgressSink): TrainRecord {
  const config = task.config;
  const spec = netSpec(job.model, config);
  const normalNet =
    job.model === 'GlanceAgain' && spec.baseLayer !== 'scratch'
      ? loadCheckpoint(task.checkpointDir, checkpointName('NormalNet', job.seed), {
          spec: netSpec('NormalNet', config),
          dataFingerprint: dataset.fingerprint,
        }).weights
      : undefined;
  const epochs = config.train.epochs;
  const { weights, history } = trainNet(spec, initWeights(spec, job.seed, normalNet), splitView(dataset, 'train'), config.train, job.seed, {
    onProgress: (p) =>
      sink.progress({
        fraction: (p.epoch - 1 + p.done / p.total) / epochs,
        detail: `epoch ${p.epoch}/${epochs}`,
        samplesPerSec: p.samplesPerSec,
      }),
    onEpoch: (r) =>
      sink.progress({ fraction: r.epoch / epochs, detail: `epoch ${r.epoch}/${epochs} loss ${r.loss.toFixed(3)} acc ${r.accuracy.toFixed(1)}%`, samplesPerSec: r.samplesPerSec }),
  });
  const name = checkpointName(job.model, job.seed);
  saveCheckpoint(task.checkpointDir, name, weights, {
    spec,
    config: config.train,
    seed: job.seed,
    backend,
    versions: task.versions,
    dataFingerprint: dataset.fingerprint,
    history,
  });
  return { model: job.model, seed: job.seed, checkpoint: name, history, backend };
}
