/**
 * Pure-JS resampling kernels for one 28x28 image: an affine map about the image
 * centre with zero padding, by inverse mapping, and its exact transpose.
 *
 * Images are row-major (row = y, col = x). For output pixel p = (x, y) the source
 * is sampled at  s = c + [a b; d e] (p - c),  c = (13.5, 13.5), i.e.
 *   sx = c + a (x - c) + b (y - c),   sy = c + d (x - c) + e (y - c).
 * Bilinear: the 4 taps around s, weights (1-fx)(1-fy) ..., taps outside the image
 * read 0. Nearest: the tap floor(s + 0.5) (ties round up), 0 outside.
 *
 * The source point is stepped incrementally along each row (the forward and the
 * transpose kernels step identically, so they use bit-identical taps). Integer
 * taps come from `Math.floor(s) | 0`, exact while |s| < 2^31: callers keep the
 * map's entries bounded (scales >= MIN_SCALE in transforms.ts).
 *
 * Each forward kernel writes every output pixel; each transpose kernel *adds* into
 * its destination (a scatter-add with the same taps and weights), so chaining the
 * adjoint of a sequence is "copy the next gradient in, then scatter on top".
 * No allocation: offsets into caller-owned Float32Arrays.
 */

export const SIDE = 28;
export const PIXELS = SIDE * SIDE;
/** The image centre, (SIDE - 1) / 2, in both x and y. */
export const CENTRE = (SIDE - 1) / 2;

// Each kernel re-declares SIDE, CENTRE and LAST (= SIDE - 1) as literals: in an ES
// module, reading module-level bindings in the inner loop is measurably slower.

/** dst[dOff..] = bilinear resampling of src[sOff..] under the inverse map [a b; d e]. */
export function resampleBilinear(
  src: Float32Array, sOff: number, dst: Float32Array, dOff: number,
  a: number, b: number, d: number, e: number,
): void {
  const SIDE = 28, CENTRE = 13.5, LAST = 27;
  let o = dOff;
  for (let y = 0; y < SIDE; y++) {
    const dy = y - CENTRE;
    // The source point moves by (a, d) per output column.
    let sx = CENTRE + b * dy - a * CENTRE;
    let sy = CENTRE + e * dy - d * CENTRE;
    for (let x = 0; x < SIDE; x++, o++, sx += a, sy += d) {
      const fx0 = Math.floor(sx);
      const fy0 = Math.floor(sy);
      const x0 = fx0 | 0;
      const y0 = fy0 | 0;
      const fx = sx - fx0;
      const fy = sy - fy0;
      if (x0 >>> 0 < LAST && y0 >>> 0 < LAST) {
        // All 4 taps inside: the common case, as two lerps along x and one along y.
        const i = sOff + y0 * SIDE + x0;
        const top = src[i] + fx * (src[i + 1] - src[i]);
        const bottom = src[i + SIDE] + fx * (src[i + SIDE + 1] - src[i + SIDE]);
        dst[o] = top + fy * (bottom - top);
        continue;
      }
      if (!(x0 >= -1 && x0 < SIDE && y0 >= -1 && y0 < SIDE)) {
        dst[o] = 0;
        continue;
      }
      const gx = 1 - fx;
      const gy = 1 - fy;
      const i = sOff + y0 * SIDE + x0;
      const inX0 = x0 >= 0;
      const inX1 = x0 < LAST;
      let v = 0;
      if (y0 >= 0) {
        if (inX0) v += gy * gx * src[i];
        if (inX1) v += gy * fx * src[i + 1];
      }
      if (y0 < LAST) {
        if (inX0) v += fy * gx * src[i + SIDE];
        if (inX1) v += fy * fx * src[i + SIDE + 1];
      }
      dst[o] = v;
    }
  }
}

/** acc[aOff..] += transpose of resampleBilinear(., [a b; d e]) applied to g[gOff..]. */
export function scatterBilinear(
  g: Float32Array, gOff: number, acc: Float32Array, aOff: number,
  a: number, b: number, d: number, e: number,
): void {
  const SIDE = 28, CENTRE = 13.5, LAST = 27;
  let o = gOff;
  for (let y = 0; y < SIDE; y++) {
    const dy = y - CENTRE;
    let sx = CENTRE + b * dy - a * CENTRE;
    let sy = CENTRE + e * dy - d * CENTRE;
    for (let x = 0; x < SIDE; x++, o++, sx += a, sy += d) {
      const v = g[o];
      if (v === 0) continue;
      const fx0 = Math.floor(sx);
      const fy0 = Math.floor(sy);
      const x0 = fx0 | 0;
      const y0 = fy0 | 0;
      const fx = sx - fx0;
      const fy = sy - fy0;
      const i = aOff + y0 * SIDE + x0;
      if (x0 >>> 0 < LAST && y0 >>> 0 < LAST) {
        const top = (1 - fy) * v;
        const bottom = fy * v;
        acc[i] += top - fx * top;
        acc[i + 1] += fx * top;
        acc[i + SIDE] += bottom - fx * bottom;
        acc[i + SIDE + 1] += fx * bottom;
        continue;
      }
      if (!(x0 >= -1 && x0 < SIDE && y0 >= -1 && y0 < SIDE)) continue;
      const gx = 1 - fx;
      const gy = 1 - fy;
      const inX0 = x0 >= 0;
      const inX1 = x0 < LAST;
      if (y0 >= 0) {
        if (inX0) acc[i] += gy * gx * v;
        if (inX1) acc[i + 1] += gy * fx * v;
      }
      if (y0 < LAST) {
        if (inX0) acc[i + SIDE] += fy * gx * v;
        if (inX1) acc[i + SIDE + 1] += fy * fx * v;
      }
    }
  }
}

/** dst[dOff..] = nearest-neighbour resampling of src[sOff..] under [a b; d e]. */
export function resampleNearest(
  src: Float32Array, sOff: number, dst: Float32Array, dOff: number,
  a: number, b: number, d: number, e: number,
): void {
  const SIDE = 28, CENTRE = 13.5;
  let o = dOff;
  for (let y = 0; y < SIDE; y++) {
    const dy = y - CENTRE;
    // + 0.5 so that floor rounds to the nearest tap.
    let sx = CENTRE + 0.5 + b * dy - a * CENTRE;
    let sy = CENTRE + 0.5 + e * dy - d * CENTRE;
    for (let x = 0; x < SIDE; x++, o++, sx += a, sy += d) {
      const xi = Math.floor(sx) | 0;
      const yi = Math.floor(sy) | 0;
      dst[o] = xi >>> 0 < SIDE && yi >>> 0 < SIDE ? src[sOff + yi * SIDE + xi] : 0;
    }
  }
}

/** acc[aOff..] += transpose of resampleNearest(., [a b; d e]) applied to g[gOff..]. */
export function scatterNearest(
  g: Float32Array, gOff: number, acc: Float32Array, aOff: number,
  a: number, b: number, d: number, e: number,
): void {
  const SIDE = 28, CENTRE = 13.5;
  let o = gOff;
  for (let y = 0; y < SIDE; y++) {
    const dy = y - CENTRE;
    let sx = CENTRE + 0.5 + b * dy - a * CENTRE;
    let sy = CENTRE + 0.5 + e * dy - d * CENTRE;
    for (let x = 0; x < SIDE; x++, o++, sx += a, sy += d) {
      const xi = Math.floor(sx) | 0;
      const yi = Math.floor(sy) | 0;
      if (xi >>> 0 < SIDE && yi >>> 0 < SIDE) acc[aOff + yi * SIDE + xi] += g[o];
    }
  }
}
