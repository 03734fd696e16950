/**
 * Training of NormalNet, AdvNet and GlanceAgain: Adam, minibatches from a
 * per-epoch shuffle, all randomness from the seed. AdvNet attacks every batch
 * with FGSM against the current weights and minimises
 * mix * L(x, y) + (1 - mix) * L(x_adv, y) (Goodfellow et al. 2015).
 */
import * as tf from '@tensorflow/tfjs';
import type { EpsUnits } from '../experiments/types.js';
import type { SplitView } from '../data/shared.js';
import { fgsm } from '../attacks/fgsm.js';
import { Adam } from './adam.js';
import { Net, nllLoss, type NetSpec } from './net.js';
import { Rng, Stream } from './rng.js';
import type { WeightSet } from './weights.js';

export interface TrainConfig {
  epochs: number;
  batchSize: number;
  lr: number;
  /** Train on the first `limit` images of the train split (smoke runs and tests); all when absent. */
  limit?: number;
  /** AdvNet: FGSM eps, its units, and the weight of the clean loss. */
  advEps: number;
  advUnits: EpsUnits;
  advMix: number;
}

export const DEFAULT_TRAIN: TrainConfig = { epochs: 15, batchSize: 64, lr: 1e-3, advEps: 0.3, advUnits: 'pixel', advMix: 0.5 };

export interface EpochReport {
  epoch: number;
  epochs: number;
  loss: number;
  /** Accuracy (%) on the clean training batches seen this epoch, as they were trained. */
  accuracy: number;
  samplesPerSec: number;
  seconds: number;
}

export interface TrainProgress {
  epoch: number;
  epochs: number;
  /** Samples done in this epoch and in the epoch in all. */
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

export function trainNet(
  spec: NetSpec,
  initial: WeightSet,
  data: SplitView,
  cfg: TrainConfig,
  seed: number,
  hooks: TrainHooks = {},
): TrainResult {
  const net = new Net(spec, initial);
  const optimizer = new Adam(net.trainable, cfg.lr);
  const shuffleRng = new Rng(seed, Stream.shuffle);
  const transformRng = new Rng(seed, Stream.transforms);
  const count = Math.min(cfg.limit ?? data.count, data.count);
  const xBuf = new Float32Array(cfg.batchSize * data.size);
  const history: EpochReport[] = [];
  const adversarial = spec.model === 'AdvNet';
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
        const [cost, hits] = tf.tidy(() => {
          const x = tf.tensor2d(data.images(idx, xBuf.subarray(0, n * data.size)), [n, data.size]);
          const y = tf.tensor1d(data.labelsAt(idx), 'int32');
          const xAdv = adversarial ? fgsm(net, x, y, cfg.advEps, cfg.advUnits) : undefined;
          let hitCount: tf.Scalar | undefined;
          const loss = optimizer.minimize(() => {
            const logp = net.forward(x, draw);
            hitCount = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logp, 1), y), 'int32'))) as tf.Scalar;
            const clean = nllLoss(logp, y);
            if (!xAdv) return clean;
            return tf.add(tf.mul(clean, cfg.advMix), tf.mul(nllLoss(net.forward(xAdv), y), 1 - cfg.advMix)) as tf.Scalar;
          });
          return [loss, hitCount!];
        });
        lossSum += cost.dataSync()[0] * n;
        correct += hits.dataSync()[0];
        cost.dispose();
        hits.dispose();
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
