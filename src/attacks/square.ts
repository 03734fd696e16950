/**
 * The Square attack, L-infinity (Andriushchenko et al. 2020, "Square Attack: a
 * query-efficient black-box adversarial attack via random search"), as AutoAttack
 * runs it (fra31/auto-attack, square.py): a gradient-free check that an attack
 * which only reads the model's scores does no better than the gradient attacks
 * (else the gradients are masked).
 *
 * Start from vertical stripes, x + eps * s_col with one random sign per column;
 * then, for each of `queries` iterations, propose the current best image with a
 * random s x s window set to the opposite side of the eps-ball (x_best + 2 eps *
 * sign, projected onto the ball and, in pixel units, onto [0, 1]) and keep it if
 * it lowers the margin z_y - max_{j != y} z_j. The window's area is a fraction p
 * of the image, p = 0.8 halved at the published iterations (`squareP`). An image
 * stops once its margin is <= 0; so each query costs a forward pass of the images
 * still correctly classified only.
 *
 * Deterministic per sample: the stripes, windows and signs of sample i come from
 * its own generator (`BatchRandom.searchRng`), and whether it is still searched
 * depends on its own margins only, so shards add up as for the other attacks.
 * AutoAttack draws one window position per iteration for the whole batch; here
 * each image draws its own, which is what makes it per-sample.
 *
 * Against a randomised model (GlanceAgain) a query reads the margin averaged over
 * K fresh transform draws (`eotSamples`, as EOT averages gradients), so the
 * search follows the expected margin rather than one draw's noise; the image is
 * then classified with the evaluation's own, independent draw.
 */
import * as tf from '@tensorflow/tfjs';
import { CLASSES, PIXELS } from '../experiments/models.js';
import type { EpsUnits } from '../experiments/types.js';
import type { Net } from '../paper/net.js';
import { concatDraws, type GlanceDraw } from '../paper/transforms.js';
import { clipsToPixels, pixelEps } from './eps.js';
import type { BatchRandom } from './random.js';

const SIDE = 28;
export const SQUARE_P_INIT = 0.8;

export interface SquareOptions {
  eps: number;
  units: EpsUnits;
  /** Search iterations (one query each, after the query of the start). */
  queries: number;
  /** Randomised models: transform draws whose margins a query averages. */
  eotSamples: number;
}

/** The fraction p of the image a window covers at iteration `it` of `queries` (AutoAttack's p_selection, rescaled). */
export function squareP(it: number, queries: number): number {
  const t = Math.floor((it / queries) * 10000);
  const halvings = [10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000].filter((b) => t > b).length;
  return SQUARE_P_INIT / [1, 2, 4, 8, 16, 32, 64, 128, 256, 512][halvings];
}

/** The side of the window at iteration `it`: round(sqrt(p * 784)), between 1 and 27. */
export const squareSide = (it: number, queries: number) => Math.min(Math.max(Math.round(Math.sqrt(squareP(it, queries) * PIXELS)), 1), SIDE - 1);

/**
 * The margins z_y - max_{j != y} z_j of images `xs` [rows.length, 784], the samples
 * `rows` of the batch, averaged over K draws for a randomised net.
 */
function margins(net: Net, xs: Float32Array, rows: readonly number[], labels: Int32Array, K: number, random: BatchRandom): Float64Array {
  const m = rows.length;
  const draws = net.randomized ? Array.from({ length: K }, () => random.draw(net, rows)!) : [];
  const k = net.randomized ? K : 1;
  const t = tf.tidy(() => {
    const x = tf.tensor2d(xs, [m, PIXELS]);
    return net.randomized ? net.logits(tf.tile(x, [k, 1]) as tf.Tensor2D, concatDraws(draws as GlanceDraw[])) : net.logits(x);
  });
  const z = t.dataSync();
  t.dispose();
  const out = new Float64Array(m);
  for (let d = 0; d < k; d++) {
    for (let r = 0; r < m; r++) {
      const row = (d * m + r) * CLASSES;
      const y = labels[rows[r]];
      let other = -Infinity;
      for (let j = 0; j < CLASSES; j++) if (j !== y && z[row + j] > other) other = z[row + j];
      out[r] += (z[row + y] - other) / k;
    }
  }
  return out;
}

/** Square attack on x [n, 784] with labels y. Returns a new tensor. */
export function square(net: Net, x: tf.Tensor2D, labels: Int32Array, opts: SquareOptions, random: BatchRandom): tf.Tensor2D {
  const n = x.shape[0];
  const e = pixelEps(opts.eps, opts.units);
  const clip = clipsToPixels(opts.units);
  const x0 = x.dataSync() as Float32Array;
  const toBall = (v: number, origin: number) => {
    const w = Math.min(Math.max(v, origin - e), origin + e);
    return clip ? Math.min(Math.max(w, 0), 1) : w;
  };
  const best = new Float32Array(n * PIXELS);
  for (let i = 0; i < n; i++) {
    const rng = random.searchRng(i);
    for (let c = 0; c < SIDE; c++) {
      const s = rng.uniform(-1, 1) < 0 ? -1 : 1;
      for (let r = 0; r < SIDE; r++) {
        const p = i * PIXELS + r * SIDE + c;
        best[p] = toBall(x0[p] + e * s, x0[p]);
      }
    }
  }
  const all = Array.from({ length: n }, (_, i) => i);
  const margin = margins(net, best, all, labels, opts.eotSamples, random);
  for (let it = 0; it < opts.queries; it++) {
    const active = all.filter((i) => margin[i] > 0);
    if (active.length === 0) break;
    const side = squareSide(it, opts.queries);
    const proposals = new Float32Array(active.length * PIXELS);
    active.forEach((i, a) => {
      proposals.set(best.subarray(i * PIXELS, (i + 1) * PIXELS), a * PIXELS);
      const rng = random.searchRng(i);
      const top = rng.int(SIDE - side);
      const left = rng.int(SIDE - side);
      const s = rng.uniform(-1, 1) < 0 ? -1 : 1;
      for (let r = top; r < top + side; r++) {
        for (let c = left; c < left + side; c++) {
          const q = a * PIXELS + r * SIDE + c;
          proposals[q] = toBall(proposals[q] + 2 * e * s, x0[i * PIXELS + r * SIDE + c]);
        }
      }
    });
    const next = margins(net, proposals, active, labels, opts.eotSamples, random);
    active.forEach((i, a) => {
      if (next[a] < margin[i]) {
        margin[i] = next[a];
        best.set(proposals.subarray(a * PIXELS, (a + 1) * PIXELS), i * PIXELS);
      }
    });
  }
  return tf.tensor2d(best, [n, PIXELS]);
}
