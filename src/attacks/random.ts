/**
 * The randomness of an attack on one batch: transform draws for the attack
 * gradient (or Square's queries), the random start of PGD, the signs of 'noise'
 * (both from `uniform`), random target labels and Square's search.
 *
 * Two sources behind one interface:
 *  - `batchRandom(rng, n)`: everything drawn in sequence from one generator (the
 *    simple form for library use and tests);
 *  - `sampleRandom(seed, stream, start, n)`: one generator per sample and purpose,
 *    seeded with the sample's absolute index in the split. Sample i then sees the
 *    same numbers whatever batch or shard it is evaluated in, so shard counts add
 *    up to the whole-slice counts exactly. Each restart of PGD gets generators of
 *    its own (`restart`); restart 0's are those of a single run.
 */
import { CLASSES } from '../experiments/models.js';
import type { Net } from '../paper/net.js';
import { Rng } from '../paper/rng.js';
import { concatDraws, type GlanceDraw } from '../paper/transforms.js';

export interface BatchRandom {
  /** Samples in the batch. */
  readonly n: number;
  /**
   * A fresh transform draw for the batch, or for the samples `rows` of it only;
   * undefined (and nothing consumed) for a deterministic net.
   */
  draw(net: Net, rows?: readonly number[]): GlanceDraw | undefined;
  /** The generator of sample i's own search (Square's squares and signs). */
  searchRng(i: number): Rng;
  /** n * per numbers uniform in [lo, hi), sample-major. */
  uniform(per: number, lo: number, hi: number): Float32Array;
  /** For each label y, a label uniform over the other CLASSES - 1. */
  otherLabels(y: Int32Array): Int32Array;
}

/** All the batch's randomness from one generator, in the order it is asked for. */
export function batchRandom(rng: Rng, n: number): BatchRandom {
  return {
    n,
    draw: (net, rows) => net.draw(rng, rows?.length ?? n),
    searchRng: () => rng,
    uniform: (per, lo, hi) => {
      const out = new Float32Array(n * per);
      for (let j = 0; j < out.length; j++) out[j] = rng.uniform(lo, hi);
      return out;
    },
    otherLabels: (y) => otherLabels(y, () => rng),
  };
}

/** What a per-sample generator is for: separate generators, so one never shifts another. */
const PURPOSE = { draws: 1, start: 2, targets: 3, search: 4 } as const;
/** Restart r of an attack uses purposes shifted by r * RESTART_STRIDE: fresh numbers, restart 0 unchanged. */
const RESTART_STRIDE = 8;

/**
 * One generator per sample and purpose: sample `start + i` of the split uses
 * Rng(mix(seed, start + i, purpose + restart * 8), stream).
 */
export function sampleRandom(seed: number, stream: number, start: number, n: number, restart = 0): BatchRandom {
  return sampleRandomAt(seed, stream, Array.from({ length: n }, (_, i) => start + i), restart);
}

/** sampleRandom for the samples at the given absolute indices of the split (a batch's survivors, say). */
export function sampleRandomAt(seed: number, stream: number, indices: readonly number[], restart = 0): BatchRandom {
  if (!(Number.isInteger(restart) && restart >= 0)) throw new RangeError(`sampleRandom: restart must be an integer >= 0, got ${restart}`);
  const n = indices.length;
  const cache = new Map<number, Rng[]>();
  const rngs = (purpose: number): Rng[] => {
    let r = cache.get(purpose);
    if (!r) {
      r = indices.map((index) => sampleRng(seed, stream, index, purpose + restart * RESTART_STRIDE));
      cache.set(purpose, r);
    }
    return r;
  };
  return {
    n,
    draw: (net, rows) => {
      if (!net.randomized) return undefined;
      const r = rngs(PURPOSE.draws);
      return concatDraws((rows ? rows.map((i) => r[i]) : r).map((ri) => net.draw(ri, 1)!));
    },
    searchRng: (i) => rngs(PURPOSE.search)[i],
    uniform: (per, lo, hi) => {
      const out = new Float32Array(n * per);
      const r = rngs(PURPOSE.start);
      for (let i = 0; i < n; i++) for (let j = 0; j < per; j++) out[i * per + j] = r[i].uniform(lo, hi);
      return out;
    },
    otherLabels: (y) => {
      const r = rngs(PURPOSE.targets);
      return otherLabels(y, (i) => r[i]);
    },
  };
}

/** The generator of one sample (absolute index in its split) for one purpose. */
export function sampleRng(seed: number, stream: number, index: number, purpose = 0): Rng {
  return new Rng(fmix32(fmix32(fmix32(seed >>> 0) ^ (index >>> 0)) ^ Math.imul(purpose + 1, 0x9e3779b9)), stream);
}


function otherLabels(y: Int32Array, rngOf: (i: number) => Rng): Int32Array {
  const out = new Int32Array(y.length);
  for (let i = 0; i < y.length; i++) out[i] = (y[i] + 1 + rngOf(i).int(CLASSES - 1)) % CLASSES;
  return out;
}

/** MurmurHash3's 32-bit finaliser: a bijection that spreads every input bit. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
