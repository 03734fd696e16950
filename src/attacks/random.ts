/**
 * The randomness of an attack on one batch: transform draws for the attack
 * gradient, the random start of PGD and random target labels.
 *
 * Two sources behind one interface:
 *  - `batchRandom(rng, n)`: everything drawn in sequence from one generator (the
 *    simple form for library use and tests);
 *  - `sampleRandom(seed, stream, start, n)`: one generator per sample and purpose,
 *    seeded with the sample's absolute index in the split. Sample i then sees the
 *    same numbers whatever batch or shard it is evaluated in, so shard counts add
 *    up to the whole-slice counts exactly.
 */
import { CLASSES } from '../experiments/models.js';
import type { Net } from '../paper/net.js';
import { Rng } from '../paper/rng.js';
import { concatDraws, type GlanceDraw } from '../paper/transforms.js';

export interface BatchRandom {
  /** Samples in the batch. */
  readonly n: number;
  /** A fresh transform draw for the batch; undefined (and nothing consumed) for a deterministic net. */
  draw(net: Net): GlanceDraw | undefined;
  /** n * per numbers uniform in [lo, hi), sample-major. */
  uniform(per: number, lo: number, hi: number): Float32Array;
  /** For each label y, a label uniform over the other CLASSES - 1. */
  otherLabels(y: Int32Array): Int32Array;
}

/** All the batch's randomness from one generator, in the order it is asked for. */
export function batchRandom(rng: Rng, n: number): BatchRandom {
  return {
    n,
    draw: (net) => net.draw(rng, n),
    uniform: (per, lo, hi) => {
      const out = new Float32Array(n * per);
      for (let j = 0; j < out.length; j++) out[j] = rng.uniform(lo, hi);
      return out;
    },
    otherLabels: (y) => otherLabels(y, () => rng),
  };
}

/** What a per-sample generator is for: separate generators, so one never shifts another. */
const PURPOSE = { draws: 1, start: 2, targets: 3 } as const;

/**
 * One generator per sample and purpose: sample `start + i` of the split uses
 * Rng(mix(seed, start + i, purpose), stream).
 */
export function sampleRandom(seed: number, stream: number, start: number, n: number): BatchRandom {
  const cache = new Map<number, Rng[]>();
  const rngs = (purpose: number): Rng[] => {
    let r = cache.get(purpose);
    if (!r) {
      r = Array.from({ length: n }, (_, i) => sampleRng(seed, stream, start + i, purpose));
      cache.set(purpose, r);
    }
    return r;
  };
  return {
    n,
    draw: (net) => {
      if (!net.randomized) return undefined;
      return concatDraws(rngs(PURPOSE.draws).map((r) => net.draw(r, 1)!));
    },
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
