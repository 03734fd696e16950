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
 * Each forward kernel writes every output pixel; each transpose kernel *adds* into
 * its destination (a scatter-add with the same taps and weights), so chaining the
 * adjoint of a sequence is "copy the next gradient in, then scatter on top".
 * No allocation: offsets into caller-owned Float32Arrays.
 */

export const SIDE = 28;
export const PIXELS = SIDE * SIDE;
/** The image centre, (SIDE - 1) / 2, in both x and y. */
export const CENTRE = (SIDE - 1) / 2;

const LAST = SIDE - 1;

/** dst[dOff..] = bilinear resampling of src[sOff..] under the inverse map [a b; d e]. */
export function resampleBilinear(
  src: Float32Array, sOff: number, dst: Float32Array, dOff: number,
  a: number, b: number, d: number, e: number,
): void {
  let o = dOff;
  for (let y = 0; y < SIDE; y++) {
    const dy = y - CENTRE;
    const rx = CENTRE + b * dy;
    const ry = CENTRE + e * dy;
    for (let x = 0; x < SIDE; x++, o++) {
      const dx = x - CENTRE;
      const sx = rx + a * dx;
      const sy = ry + d * dx;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      if (!(x0 >= -1 && x0 < SIDE && y0 >= -1 && y0 < SIDE)) {
        dst[o] = 0;
        continue;
      }
      const fx = sx - x0;
      const fy = sy - y0;
      const gx = 1 - fx;
      const gy = 1 - fy;
      const i = sOff + y0 * SIDE + x0;
      if (x0 >= 0 && x0 < LAST && y0 >= 0 && y0 < LAST) {
        dst[o] = gy * (gx * src[i] + fx * src[i + 1]) + fy * (gx * src[i + SIDE] + fx * src[i + SIDE + 1]);
        continue;
      }
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
  let o = gOff;
  for (let y = 0; y < SIDE; y++) {
    const dy = y - CENTRE;
    const rx = CENTRE + b * dy;
    const ry = CENTRE + e * dy;
    for (let x = 0; x < SIDE; x++, o++) {
      const v = g[o];
      if (v === 0) continue;
      const dx = x - CENTRE;
      const sx = rx + a * dx;
      const sy = ry + d * dx;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      if (!(x0 >= -1 && x0 < SIDE && y0 >= -1 && y0 < SIDE)) continue;
      const fx = sx - x0;
      const fy = sy - y0;
      const gx = 1 - fx;
      const gy = 1 - fy;
      const i = aOff + y0 * SIDE + x0;
      if (x0 >= 0 && x0 < LAST && y0 >= 0 && y0 < LAST) {
        acc[i] += gy * gx * v;
        acc[i + 1] += gy * fx * v;
        acc[i + SIDE] += fy * gx * v;
        acc[i + SIDE + 1] += fy * fx * v;
        continue;
      }
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
  let o = dOff;
  for (let y = 0; y < SIDE; y++) {
    const dy = y - CENTRE;
    const rx = CENTRE + 0.5 + b * dy;
    const ry = CENTRE + 0.5 + e * dy;
    for (let x = 0; x < SIDE; x++, o++) {
      const dx = x - CENTRE;
      const xi = Math.floor(rx + a * dx);
      const yi = Math.floor(ry + d * dx);
      dst[o] = xi >= 0 && xi < SIDE && yi >= 0 && yi < SIDE ? src[sOff + yi * SIDE + xi] : 0;
    }
  }
}

/** acc[aOff..] += transpose of resampleNearest(., [a b; d e]) applied to g[gOff..]. */
export function scatterNearest(
  g: Float32Array, gOff: number, acc: Float32Array, aOff: number,
  a: number, b: number, d: number, e: number,
): void {
  let o = gOff;
  for (let y = 0; y < SIDE; y++) {
    const dy = y - CENTRE;
    const rx = CENTRE + 0.5 + b * dy;
    const ry = CENTRE + 0.5 + e * dy;
    for (let x = 0; x < SIDE; x++, o++) {
      const dx = x - CENTRE;
      const xi = Math.floor(rx + a * dx);
      const yi = Math.floor(ry + d * dx);
      if (xi >= 0 && xi < SIDE && yi >= 0 && yi < SIDE) acc[aOff + yi * SIDE + xi] += g[o];
    }
  }
}
