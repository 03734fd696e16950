/**
 * Training of NormalNet, AdvNet and GlanceAgain: Adam, minibatches from a
 * per-epoch shuffle, all randomness from the seed. AdvNet attacks every batch
 * with FGSM against the current weights and minimises
 * mix * L(x, y) + (1 - mix) * L(x_adv, y) (Goodfellow et al. 2015).
 */
import * as tf from '@tensorflow/tfjs';
import type { EpsUnits } from '../experiments/types.js';
import type { SplitView } from '../data/shared.js';
import { Adam } from './adam.js';
import { countHits, scaledNll, sumNll } from './loss.js';
import { mlpTrainStep } from './mlp-step.js';
import { CLASSES, Net, type NetSpec } from './net.js';
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

const sum = (a: Float32Array) => a.reduce((s, v) => s + v, 0);

/**
 * One Adam step on scale 1/n times the summed NLL of the labels under the logits that
 * `forward` computes (autodiff; GlanceAgain here and in packed.ts); returns the
 * logits, read back, for the reported loss and hits.
 */
export function autodiffStep(optimizer: Adam, n: number, forward: () => { logits: tf.Tensor; labels: tf.Tensor }): Float32Array {
  const out = tf.tidy(() => {
    let kept: tf.Tensor | undefined;
    optimizer.minimize(() => {
      const { logits, labels } = forward();
      kept = tf.keep(logits);
      return scaledNll(logits, labels, 1 / n);
    }).dispose();
    return kept!;
  });
  const logits = out.dataSync() as Float32Array;
  out.dispose();
  return logits;
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
  const adv = { eps: cfg.advEps, units: cfg.advUnits, mix: cfg.advMix };
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
        const images = data.images(idx, xBuf.subarray(0, n * data.size));
        const labels = data.labelsAt(idx);
        if (!net.randomized) {
          // NormalNet and AdvNet: the step written out (mlp-step.ts).
          const xy = [tf.tensor2d(images, [n, data.size]), tf.tensor1d(labels, 'int32')];
          const r = mlpTrainStep(net.params, optimizer, net.trainableNames, xy[0], xy[1], adversarial ? adv : undefined);
          tf.dispose(xy);
          lossSum += r.adversarial ? cfg.advMix * sum(r.clean) + (1 - cfg.advMix) * sum(r.adversarial) : sum(r.clean);
          correct += countHits(r.logits, labels, CLASSES);
        } else {
          // GlanceAgain: autodiff; the reported loss and hits come from the logits, read back.
          const logits = autodiffStep(optimizer, n, () => ({
            logits: net.logits(tf.tensor2d(images, [n, data.size]), draw),
            labels: tf.tensor1d(labels, 'int32'),
          }));
          lossSum += sumNll(logits, labels, CLASSES);
          correct += countHits(logits, labels, CLASSES);
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
