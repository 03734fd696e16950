/**
 * Replicate packing: R replicates (seeds) of one model trained as ONE batched
 * computation — every weight gets a leading replicate axis and every matmul is a
 * batched matmul — so the per-op cost that dominates at batch 64 (see
 * bench/results.md) is paid once for R replicates. Each replicate keeps its own
 * initial weights, data order and transform draws, drawn exactly as trainNet
 * draws them; Adam is elementwise, so the packed update is each replicate's own.
 * Packing changes a replicate's results only by float summation order.
 */
import * as tf from '@tensorflow/tfjs';
import type { SplitView } from '../data/shared.js';
import { CLASSES, LSTM_UNITS, PIXELS, isRandomized, trainableNames, type NetSpec } from './net.js';
import { lstmLayer } from './lstm.js';
import { relu } from './relu.js';
import { Adam } from './adam.js';
import { countHits, sumNll } from './loss.js';
import { mlpTrainStep } from './mlp-step.js';
import { Rng, Stream } from './rng.js';
import { GLANCE_STEPS, glanceSequence, drawGlance, type GlanceDraw } from './transforms.js';
import { autodiffStep, type EpochReport, type TrainConfig, type TrainProgress, type TrainResult } from './train.js';
import type { WeightSet } from './weights.js';

/** Weights stacked on a leading replicate axis; biases get [R, 1, units] so they broadcast over the batch. */
function stack(sets: WeightSet[], name: string): tf.Tensor {
  const shape = sets[0][name].shape;
  const rows = shape.length === 1 ? [1, shape[0]] : shape;
  return tf.tensor(concatData(sets.map((w) => w[name].data)), [sets.length, ...rows]);
}

function concatData(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export class PackedNet {
  readonly params: Record<string, tf.Tensor>;
  /** The weights that train (trainableNames below), as variables in that order. */
  readonly trainable: tf.Variable[];
  readonly trainableNames: string[];

  constructor(
    readonly spec: NetSpec,
    readonly replicas: WeightSet[],
  ) {
    this.trainableNames = trainableNames(spec, replicas[0]);
    const train = new Set(this.trainableNames);
    this.params = {};
    for (const name of Object.keys(replicas[0])) {
      const t = stack(replicas, name);
      if (train.has(name)) {
        this.params[name] = tf.variable(t, true);
        t.dispose();
      } else this.params[name] = t;
    }
    this.trainable = this.trainableNames.map((name) => this.params[name] as tf.Variable);
  }

  get count(): number {
    return this.replicas.length;
  }

  /** Log-probabilities [R, n, 10] of x [R, n, 784]; GlanceAgain needs a draw of R*n samples (replicate-major). */
  forward(x: tf.Tensor3D, draw?: GlanceDraw): tf.Tensor3D {
    return tf.logSoftmax(this.logits(x, draw));
  }

  /** The logits [R, n, 10] (forward's input to the log-softmax). */
  logits(x: tf.Tensor3D, draw?: GlanceDraw): tf.Tensor3D {
    const p = this.params as Record<string, tf.Tensor3D>;
    const [r, n] = x.shape;
    const out = (h: tf.Tensor3D) => tf.add(tf.matMul(h, p['out.kernel']), p['out.bias']) as tf.Tensor3D;
    if (!isRandomized(this.spec.model)) return out(relu(tf.add(tf.matMul(x, p['base.kernel']), p['base.bias'])) as tf.Tensor3D);
    const seq = tf.reshape(glanceSequence(tf.reshape(x, [r * n, PIXELS]) as tf.Tensor2D, draw!, this.spec.resampling ?? 'bilinear'), [r, n * GLANCE_STEPS, PIXELS]);
    const h1 = relu(tf.add(tf.matMul(seq as tf.Tensor3D, p['base.kernel']), p['base.bias'])) as tf.Tensor3D;
    const h2 = relu(tf.add(tf.matMul(h1, p['decode.kernel']), p['decode.bias']));
    const layer = (name: string) => ({ inputKernel: p[`${name}.input`], recurrentKernel: p[`${name}.recurrent`], bias: p[`${name}.bias`] });
    const l1 = lstmLayer(tf.reshape(h2, [r, n, GLANCE_STEPS, PIXELS]) as tf.Tensor4D, layer('lstm1'));
    const l2 = lstmLayer(l1, layer('lstm2'));
    const last = tf.reshape(tf.slice(l2, [0, 0, GLANCE_STEPS - 1, 0], [r, n, 1, LSTM_UNITS]), [r, n, LSTM_UNITS]) as tf.Tensor3D;
    return out(last);
  }

  /** Each replicate's weights, in the shapes of an unpacked model. */
  getWeights(): WeightSet[] {
    return this.replicas.map((w, ri) => {
      const out: WeightSet = {};
      for (const [name, t] of Object.entries(this.params)) {
        const all = t.dataSync() as Float32Array;
        const size = all.length / this.count;
        out[name] = { shape: [...w[name].shape], data: all.slice(ri * size, (ri + 1) * size) };
      }
      return out;
    });
  }

  dispose(): void {
    for (const t of Object.values(this.params)) t.dispose();
  }
}

const sum = (a: Float32Array) => a.reduce((s, v) => s + v, 0);

export interface PackHooks {
  /** Each replicate's report of the epoch, in the order of `seeds`. */
  onEpoch?: (reports: EpochReport[]) => void;
  /** Called every `progressEvery` batches (default 50); samplesPerSec counts replicate-samples. */
  onProgress?: (p: TrainProgress) => void;
  progressEvery?: number;
}

/** Trains R replicates of one model together; replicate i is the model trainNet(spec, initials[i], ..., seeds[i]) trains. */
export function trainPacked(
  spec: NetSpec,
  initials: WeightSet[],
  data: SplitView,
  cfg: TrainConfig,
  seeds: number[],
  hooks: PackHooks = {},
): TrainResult[] {
  const r = seeds.length;
  const net = new PackedNet(spec, initials);
  const optimizer = new Adam(net.trainable, cfg.lr);
  const shuffles = seeds.map((s) => new Rng(s, Stream.shuffle));
  const transforms = seeds.map((s) => new Rng(s, Stream.transforms));
  const count = Math.min(cfg.limit ?? data.count, data.count);
  const histories: EpochReport[][] = seeds.map(() => []);
  const adv = { eps: cfg.advEps, units: cfg.advUnits, mix: cfg.advMix };
  try {
    for (let epoch = 1; epoch <= cfg.epochs; epoch++) {
      const orders = shuffles.map((rng) => rng.permutation(count));
      const t0 = performance.now();
      const lossSum = new Float64Array(r);
      const correct = new Float64Array(r);
      for (let b = 0, batch = 0; b < count; b += cfg.batchSize, batch++) {
        const n = Math.min(cfg.batchSize, count - b);
        const idx = orders.map((o) => o.subarray(b, b + n));
        const xs = concatData(idx.map((i) => data.images(i)));
        const ys = new Int32Array(r * n);
        idx.forEach((i, k) => ys.set(data.labelsAt(i), k * n));
        const draw = isRandomized(spec.model) ? concatDraws(transforms.map((rng) => drawGlance(rng, n))) : undefined;
        // Per replicate k: the sum of its samples' objective losses and its hits.
        const addUp = (losses: Float32Array, weight: number) => {
          for (let k = 0; k < r; k++) lossSum[k] += weight * sum(losses.subarray(k * n, (k + 1) * n));
        };
        const addHits = (logits: Float32Array) => {
          for (let k = 0; k < r; k++) correct[k] += countHits(logits.subarray(k * n * CLASSES), ys.subarray(k * n, (k + 1) * n), CLASSES);
        };
        if (!isRandomized(spec.model)) {
          // NormalNet and AdvNet: the step written out (mlp-step.ts). The objective is the
          // sum of the replicates' mean losses, so each replicate's gradient is its own.
          const xy = [tf.tensor3d(xs, [r, n, data.size]), tf.tensor2d(ys, [r, n], 'int32')];
          const res = mlpTrainStep(net.params, optimizer, net.trainableNames, xy[0], xy[1], spec.model === 'AdvNet' ? adv : undefined);
          tf.dispose(xy);
          addUp(res.clean, res.adversarial ? cfg.advMix : 1);
          if (res.adversarial) addUp(res.adversarial, 1 - cfg.advMix);
          addHits(res.logits);
        } else {
          const logits = autodiffStep(optimizer, n, () => ({
            logits: net.logits(tf.tensor3d(xs, [r, n, data.size]), draw),
            labels: tf.tensor2d(ys, [r, n], 'int32'),
          }));
          for (let k = 0; k < r; k++) lossSum[k] += sumNll(logits.subarray(k * n * CLASSES), ys.subarray(k * n, (k + 1) * n), CLASSES);
          addHits(logits);
        }
        if (hooks.onProgress && (batch + 1) % (hooks.progressEvery ?? 50) === 0) {
          const done = b + n;
          hooks.onProgress({ epoch, epochs: cfg.epochs, done, total: count, samplesPerSec: (r * done) / ((performance.now() - t0) / 1000) });
        }
      }
      const seconds = (performance.now() - t0) / 1000;
      const reports = seeds.map((_, k) => ({ epoch, epochs: cfg.epochs, loss: lossSum[k] / count, accuracy: (100 * correct[k]) / count, samplesPerSec: (r * count) / seconds, seconds }));
      reports.forEach((rep, k) => histories[k].push(rep));
      hooks.onEpoch?.(reports);
    }
    const weights = net.getWeights();
    return seeds.map((_, k) => ({ weights: weights[k], history: histories[k] }));
  } finally {
    optimizer.dispose();
    net.dispose();
  }
}

function concatDraws(draws: GlanceDraw[]): GlanceDraw {
  return { n: draws.reduce((s, d) => s + d.n, 0), angles: concatData(draws.map((d) => d.angles)), scales: concatData(draws.map((d) => d.scales)) };
}
