/**
 * The random parameters of GlanceAgain's transforms, as plain data: per sample,
 * the angles of rotation steps 1, 2, 3 and 5 (degrees, positive = counter-clockwise
 * as displayed) and the scale of step 4. Drawn from the seeded Rng, so a seed fixes
 * them on every backend and thread.
 */
import type { Rng } from './rng.js';

/** Rotation angles per sample: steps 1, 2, 3 and 5 (step 4 is the scaling). */
export const GLANCE_ANGLES = 4;
/** The smallest scale accepted (it shrinks an image to a point; it bounds the kernels' coordinates). */
export const MIN_SCALE = 1e-3;

/** The random parameters of the transforms of n samples (plain data). */
export interface GlanceDraw {
  n: number;
  /** [n * 4], degrees, for steps 1, 2, 3 and 5 of each sample. */
  angles: Float32Array;
  /** [n], the scale factor of step 4 of each sample. */
  scales: Float32Array;
}

export interface GlanceDrawOptions {
  /** Angles are uniform in [-maxAngle, maxAngle] degrees. Default 30. */
  maxAngle?: number;
  /** Scales are uniform in [minScale, maxScale]. Defaults 0.5 and 2. */
  minScale?: number;
  maxScale?: number;
}

/**
 * Draws the transforms of n samples. Per sample, in order: a1, a2, a3, s, a4, so
 * sample i's draw depends only on the generator's state and on i, never on n.
 */
export function drawGlance(rng: Rng, n: number, opts: GlanceDrawOptions = {}): GlanceDraw {
  const maxAngle = opts.maxAngle ?? 30;
  const minScale = opts.minScale ?? 0.5;
  const maxScale = opts.maxScale ?? 2;
  checkCount(n, 'drawGlance');
  if (!(Number.isFinite(maxAngle) && maxAngle >= 0)) {
    throw new TypeError(`drawGlance: maxAngle must be a finite number >= 0 (degrees), got ${maxAngle}`);
  }
  if (!(Number.isFinite(maxScale) && minScale >= MIN_SCALE && minScale <= maxScale)) {
    throw new TypeError(`drawGlance: need ${MIN_SCALE} <= minScale <= maxScale < Infinity, got minScale=${minScale}, maxScale=${maxScale}`);
  }
  const draw = emptyDraw(n);
  for (let i = 0; i < n; i++) {
    draw.angles[i * 4] = rng.uniform(-maxAngle, maxAngle);
    draw.angles[i * 4 + 1] = rng.uniform(-maxAngle, maxAngle);
    draw.angles[i * 4 + 2] = rng.uniform(-maxAngle, maxAngle);
    draw.scales[i] = rng.uniform(minScale, maxScale);
    draw.angles[i * 4 + 3] = rng.uniform(-maxAngle, maxAngle);
  }
  return draw;
}

/** The same transforms for all n samples: angles for steps 1, 2, 3, 5 (degrees) and the scale. */
export function fixedDraw(n: number, angles: readonly [number, number, number, number], scale: number): GlanceDraw {
  checkCount(n, 'fixedDraw');
  const draw = emptyDraw(n);
  for (let i = 0; i < n; i++) {
    draw.angles.set(angles, i * 4);
    draw.scales[i] = scale;
  }
  return draw;
}

/** Angles 0 and scale 1: every image of the sequence is the input. */
export function identityDraw(n: number): GlanceDraw {
  return fixedDraw(n, [0, 0, 0, 0], 1);
}

/** Samples [start, end) of a draw, as a new draw sharing no memory with it. */
export function sliceDraw(draw: GlanceDraw, start: number, end: number): GlanceDraw {
  if (!(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start <= end && end <= draw.n)) {
    throw new RangeError(`sliceDraw: need integers 0 <= start <= end <= ${draw.n}, got [${start}, ${end})`);
  }
  return { n: end - start, angles: draw.angles.slice(start * 4, end * 4), scales: draw.scales.slice(start, end) };
}

function emptyDraw(n: number): GlanceDraw {
  return { n, angles: new Float32Array(n * GLANCE_ANGLES), scales: new Float32Array(n) };
}

function checkCount(n: number, where: string): void {
  if (!(Number.isInteger(n) && n >= 0)) throw new TypeError(`${where}: n must be an integer >= 0, got ${n}`);
}

/** Throws a RangeError naming `where` unless the draw's lengths and values are usable. */
export function checkDraw(draw: GlanceDraw, where: string): void {
  checkCount(draw.n, where);
  checkLength(draw.angles, draw.n * GLANCE_ANGLES, `${where}: draw.angles`);
  checkLength(draw.scales, draw.n, `${where}: draw.scales`);
  for (let i = 0; i < draw.n; i++) {
    const s = draw.scales[i];
    if (!(s >= MIN_SCALE && Number.isFinite(s))) {
      throw new RangeError(`${where}: draw.scales[${i}] = ${s}, must be finite and >= ${MIN_SCALE}`);
    }
  }
  for (let j = 0; j < draw.angles.length; j++) {
    if (!Number.isFinite(draw.angles[j])) throw new RangeError(`${where}: draw.angles[${j}] = ${draw.angles[j]}, must be finite`);
  }
}

function checkLength(a: Float32Array, expected: number, what: string): void {
  if (a.length !== expected) throw new RangeError(`${what} has length ${a.length}, expected ${expected}`);
}

/** The draws of several batches as one draw, in order (samples of draws[0] first). */
export function concatDraws(draws: readonly GlanceDraw[]): GlanceDraw {
  const n = draws.reduce((s, d) => s + d.n, 0);
  const out: GlanceDraw = { n, angles: new Float32Array(n * 4), scales: new Float32Array(n) };
  let at = 0;
  for (const d of draws) {
    out.angles.set(d.angles, at * 4);
    out.scales.set(d.scales, at);
    at += d.n;
  }
  return out;
}
