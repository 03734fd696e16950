/**
 * A training job: NormalNet, AdvNet or GlanceAgain of one seed, saved as a
 * checkpoint; or a pack (--pack): several seeds of one model trained as one
 * batched computation (models/packed.ts), each seed saved as the checkpoint it
 * would have had alone, its manifest's config and its record naming the pack.
 */
import type { SharedDataset } from '../data/shared.js';
import { splitView } from '../data/shared.js';
import { jobSeeds, type TrainJob } from '../experiments/grid.js';
import type { BackendInfo } from '../experiments/types.js';
import type { TrainRecord } from '../coordinator/store.js';
import { loadCheckpoint, saveCheckpoint } from '../models/checkpoint.js';
import { initWeights } from '../models/net.js';
import { trainPacked } from '../models/packed.js';
import { trainNet, type TrainConfig, type TrainResult } from '../models/train.js';
import type { WeightSet } from '../models/weights.js';
import type { ProgressSink, WorkerTask } from './protocol.js';
import { checkpointName, netSpec } from './spec.js';

/** Trains the job's seeds (one, or a pack) and writes one checkpoint per seed; the records in the job's seed order. */
export function runTrainJob(job: TrainJob, task: WorkerTask, dataset: SharedDataset, backend: BackendInfo, sink: ProgressSink): TrainRecord[] {
  const config = task.config;
  const spec = netSpec(job.model, config);
  const seeds = jobSeeds(job);
  const initial = (seed: number): WeightSet => {
    const normalNet =
      job.model === 'GlanceAgain' && spec.baseLayer !== 'scratch'
        ? loadCheckpoint(task.checkpointDir, checkpointName('NormalNet', seed), {
            spec: netSpec('NormalNet', config),
            dataFingerprint: dataset.fingerprint,
          }).weights
        : undefined;
    return initWeights(spec, seed, normalNet);
  };
  const epochs = config.train.epochs;
  const view = splitView(dataset, 'train');
  const packed = seeds.length > 1 ? `, ${seeds.length} seeds packed` : '';
  const onProgress = (p: { epoch: number; done: number; total: number; samplesPerSec: number }) =>
    sink.progress({ fraction: (p.epoch - 1 + p.done / p.total) / epochs, detail: `epoch ${p.epoch}/${epochs}${packed}`, samplesPerSec: p.samplesPerSec });
  let results: TrainResult[];
  if (seeds.length === 1) {
    results = [
      trainNet(spec, initial(seeds[0]), view, config.train, seeds[0], {
        onProgress,
        onEpoch: (r) =>
          sink.progress({ fraction: r.epoch / epochs, detail: `epoch ${r.epoch}/${epochs} loss ${r.loss.toFixed(3)} acc ${r.accuracy.toFixed(1)}%`, samplesPerSec: r.samplesPerSec }),
      }),
    ];
  } else {
    // samplesPerSec counts replicate-samples: every seed's samples.
    results = trainPacked(spec, seeds.map(initial), view, config.train, seeds, {
      onProgress,
      onEpoch: (rs) =>
        sink.progress({
          fraction: rs[0].epoch / epochs,
          detail: `epoch ${rs[0].epoch}/${epochs}${packed}, acc ${rs.map((r) => r.accuracy.toFixed(1)).join('/')}%`,
          samplesPerSec: rs[0].samplesPerSec,
        }),
    });
  }
  return seeds.map((seed, k) => {
    const { weights, history } = results[k];
    const name = checkpointName(job.model, seed);
    // The manifest's training config says how the model was trained, packing included.
    const trainConfig: TrainConfig = seeds.length > 1 ? Object.assign({}, config.train, { packedWith: seeds }) : config.train;
    saveCheckpoint(task.checkpointDir, name, weights, {
      spec,
      config: trainConfig,
      seed,
      backend,
      versions: task.versions,
      dataFingerprint: dataset.fingerprint,
      history,
    });
    return { model: job.model, seed, checkpoint: name, history, backend, ...(seeds.length > 1 ? { packedWith: seeds } : {}) };
  });
}
