/**
 * The one training loop, for every model: Adam, minibatches from a per-epoch
 * shuffle, each model's objective from the models table (objective.ts), all
 * randomness from the seed (the shuffle and the transform draws on their own
 * streams).
 */
import * as tf from '@tensorflow/tfjs';
import type { SplitView } from '../data/shared.js';
import { CLASSES, type NetSpec } from '../experiments/models.js';
import type { EpochReport, TrainConfig } from '../experiments/types.js';
import { Net } from '../paper/net.js';
import { Rng, Stream } from '../paper/rng.js';
import type { WeightSet } from '../paper/weights.js';
import { Adam } from './adam.js';
import { countHits } from './loss.js';
import { objectiveOf, type Batch, type Objective } from './objective.js';

export interface TrainProgress {
  epoch: number;
  epochs: number;
  /** Samples done in this epoch, and the epoch's size. */
  done: number;
  total: number;
  samplesPerSec: number;
}

export interface TrainHooks {
  onEpoch?: (r: EpochReport) => void;
  /** Called every `progressEvery` batches (default 50). */
  onProgress?: (p: TrainProgress) => void;
  progressEvery?: number;
}

export interface TrainResult {
  weights: WeightSet;
  history: EpochReport[];
}

/** One Adam step of the objective on a batch; returns the loss and the clean logits, read back. */
export function trainStep(net: Net, optimizer: Adam, objective: Objective, batch: Batch): { loss: number; logits: Float32Array } {
  const prepared = objective.prepare?.(net, batch);
  try {
    const [loss, logits] = tf.tidy(() => {
      let kept: tf.Tensor | undefined;
      const value = optimizer.minimize(() => {
        const out = objective.loss(net, batch, prepared);
        kept = tf.keep(out.logits);
        return out.loss;
      });
      return [value, kept!];
    });
    const out = { loss: loss.dataSync()[0], logits: logits.dataSync() as Float32Array };
    tf.dispose([loss, logits]);
    return out;
  } finally {
    prepared?.dispose();
  }
}

export function trainNet(spec: NetSpec, initial: WeightSet, data: SplitView, cfg: TrainConfig, seed: number, hooks: TrainHooks = {}): TrainResult {
  const net = new Net(spec, initial);
  const optimizer = new Adam(net.trainable, cfg.lr);
  const objective = objectiveOf(spec, cfg);
  const shuffleRng = new Rng(seed, Stream.shuffle);
  const transformRng = new Rng(seed, Stream.transforms);
  const count = Math.min(cfg.limit ?? data.count, data.count);
  const xBuf = new Float32Array(cfg.batchSize * data.size);
  const history: EpochReport[] = [];
  try {
    for (let epoch = 1; epoch <= cfg.epochs; epoch++) {
      const order = shuffleRng.permutation(count);
      const t0 = performance.now();
      let lossSum = 0;
      let correct = 0;
      for (let b = 0, batch = 0; b < count; b += cfg.batchSize, batch++) {
        const idx = order.subarray(b, Math.min(b + cfg.batchSize, count));
        const n = idx.length;
        const draw = net.draw(transformRng, n);
        const labels = data.labelsAt(idx);
        const x = tf.tensor2d(data.images(idx, xBuf.subarray(0, n * data.size)), [n, data.size]);
        const y = tf.tensor1d(labels, 'int32');
        try {
          const r = trainStep(net, optimizer, objective, { x, y, draw });
          lossSum += r.loss * n;
          correct += countHits(r.logits, labels, CLASSES);
        } finally {
          tf.dispose([x, y]);
        }
        if (hooks.onProgress && (batch + 1) % (hooks.progressEvery ?? 50) === 0) {
          const done = b + n;
          hooks.onProgress({ epoch, epochs: cfg.epochs, done, total: count, samplesPerSec: done / ((performance.now() - t0) / 1000) });
        }
      }
      const seconds = (performance.now() - t0) / 1000;
      const report = { epoch, epochs: cfg.epochs, loss: lossSum / count, accuracy: (100 * correct) / count, samplesPerSec: count / seconds, seconds };
      history.push(report);
      hooks.onEpoch?.(report);
    }
    return { weights: net.getWeights(), history };
  } finally {
    optimizer.dispose();
    net.dispose();
  }
}
