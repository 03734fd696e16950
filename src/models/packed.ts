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
import { clipsToPixels, pixelEps } from '../attacks/eps.js';
import { exactSign } from '../attacks/fgsm.js';
import { CLASSES, LSTM_UNITS, PIXELS, isRandomized, trainableNames, type NetSpec } from './net.js';
import { lstmLayer } from './lstm.js';
import { relu } from './relu.js';
import { Adam } from './adam.js';
import { Rng, Stream } from './rng.js';
import { GLANCE_STEPS, glanceSequence, drawGlance, type GlanceDraw } from './transforms.js';
import type { EpochReport, TrainConfig, TrainProgress, TrainResult } from './train.js';
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
  readonly trainable: tf.Variable[];

  constructor(
    readonly spec: NetSpec,
    readonly replicas: WeightSet[],
  ) {
    const train = new Set(trainableNames(spec, replicas[0]));
    this.params = {};
    this.trainable = [];
    for (const name of Object.keys(replicas[0])) {
      const t = stack(replicas, name);
      if (train.has(name)) {
        const v = tf.variable(t, true);
        t.dispose();
        this.params[name] = v;
        this.trainable.push(v);
      } else this.params[name] = t;
    }
  }

  get count(): number {
    return this.replicas.length;
  }

  /** Log-probabilities [R, n, 10] of x [R, n, 784]; GlanceAgain needs a draw of R*n samples (replicate-major). */
  forward(x: tf.Tensor3D, draw?: GlanceDraw): tf.Tensor3D {
    const p = this.params as Record<string, tf.Tensor3D>;
    const [r, n] = x.shape;
    const out = (h: tf.Tensor3D) => tf.logSoftmax(tf.add(tf.matMul(h, p['out.kernel']), p['out.bias'])) as tf.Tensor3D;
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

/** Per replicate: the sum over its samples of the NLL, [R]. */
function nllSums(logp: tf.Tensor3D, y: tf.Tensor2D): tf.Tensor1D {
  return tf.neg(tf.sum(tf.mul(logp, tf.oneHot(y, CLASSES)), [1, 2])) as tf.Tensor1D;
}

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
        const [loss, hits] = tf.tidy(() => {
          const x = tf.tensor3d(xs, [r, n, data.size]);
          const y = tf.tensor2d(ys, [r, n], 'int32');
          let xAdv: tf.Tensor3D | undefined;
          if (spec.model === 'AdvNet') {
            // FGSM per replicate: the gradient of the summed loss w.r.t. x[r] is replicate r's own.
            const g = tf.grad((xi: tf.Tensor) => tf.sum(nllSums(net.forward(xi as tf.Tensor3D), y)))(x);
            const step = tf.mul(exactSign(g), pixelEps(cfg.advEps, cfg.advUnits));
            xAdv = tf.add(x, step) as tf.Tensor3D;
            if (clipsToPixels(cfg.advUnits)) xAdv = tf.clipByValue(xAdv, 0, 1);
          }
          let perReplicate: tf.Tensor1D | undefined;
          let hitCount: tf.Tensor1D | undefined;
          optimizer.minimize(() => {
            const logp = net.forward(x, draw);
            hitCount = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logp, 2), y), 'int32'), 1)) as tf.Tensor1D;
            let l = tf.div(nllSums(logp, y), n) as tf.Tensor1D;
            if (xAdv) l = tf.add(tf.mul(l, cfg.advMix), tf.mul(tf.div(nllSums(net.forward(xAdv), y), n), 1 - cfg.advMix)) as tf.Tensor1D;
            perReplicate = tf.keep(l);
            return tf.sum(l) as tf.Scalar;
          });
          return [perReplicate!, hitCount!];
        });
        const l = loss.dataSync();
        const h = hits.dataSync();
        for (let k = 0; k < r; k++) {
          lossSum[k] += l[k] * n;
          correct[k] += h[k];
        }
        loss.dispose();
        hits.dispose();
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
