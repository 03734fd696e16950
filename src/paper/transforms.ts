/**
 * GlanceAgain's input transforms. Each 28x28 image x0 becomes a sequence of 6:
 *   x1 = rotate(x0, a1), x2 = rotate(x1, a2), x3 = rotate(x2, a3),
 *   x4 = scale(x3, s),   x5 = rotate(x4, a4),
 * each step resampling the previous step's output (as the paper chains its
 * torchvision transforms). Both kinds of step act about the image centre
 * (13.5, 13.5) with zero padding, by inverse mapping (see resample.ts).
 *
 * Angle convention: degrees, positive = counter-clockwise as displayed (row 0 at
 * the top, y pointing down), as torchvision's `rotate`. Rotating by +90 moves
 * what was right of the centre to above it, and what was above to the left.
 * Scale: s > 1 enlarges (the content's extent about the centre is multiplied by s).
 *
 * Layouts: x is [n, 784], the sequence is [n, 6, 784], all row-major Float32Arrays.
 * The map is linear in the image, so its vector-Jacobian product is the transpose
 * map, chained backwards: g0 + A1^T(g1 + A2^T(g2 + A3^T(g3 + S^T(g4 + A5^T g5)))).
 */
import * as tf from '@tensorflow/tfjs';
import { GLANCE_STEPS } from '../experiments/models.js';
import type { Resampling } from '../experiments/types.js';
import { type GlanceDraw, checkDraw } from './glance-draw.js';
import { PIXELS, resampleBilinear, resampleNearest, scatterBilinear, scatterNearest } from './resample.js';

export {
  GLANCE_ANGLES, MIN_SCALE, type GlanceDraw, type GlanceDrawOptions,
  concatDraws, drawGlance, fixedDraw, identityDraw, sliceDraw,
} from './glance-draw.js';


export { GLANCE_STEPS };

// Scratch reused across calls: everything here is synchronous, and each worker
// thread has its own module instance.
const maps = new Float64Array(5 * 4);
const scratchA = new Float32Array(PIXELS);
const scratchB = new Float32Array(PIXELS);

/**
 * The 5 transforms of samples [0, n) of x ([n*784]) as a sequence [n, 6, 784].
 * Writes into `out` when given (it must not alias x).
 */
export function glanceSequenceJS(
  x: Float32Array, draw: GlanceDraw, mode: Resampling = 'bilinear', out?: Float32Array,
): Float32Array {
  const n = draw.n;
  checkDraw(draw, 'glanceSequenceJS');
  checkLength(x, n * PIXELS, 'glanceSequenceJS: x');
  const y = out ?? new Float32Array(n * GLANCE_STEPS * PIXELS);
  checkLength(y, n * GLANCE_STEPS * PIXELS, 'glanceSequenceJS: out');
  const resample = mode === 'nearest' ? resampleNearest : resampleBilinear;
  for (let i = 0; i < n; i++) {
    setMaps(draw, i);
    const base = i * GLANCE_STEPS * PIXELS;
    const src = i * PIXELS;
    y.set(x.subarray(src, src + PIXELS), base);
    for (let k = 0; k < 5; k++) {
      const m = k * 4;
      resample(y, base + k * PIXELS, y, base + (k + 1) * PIXELS, maps[m], maps[m + 1], maps[m + 2], maps[m + 3]);
    }
  }
  return y;
}

/**
 * The transpose of glanceSequenceJS (it does not depend on x): gradOut [n, 6, 784]
 * -> the gradient with respect to the input images [n*784].
 */
export function glanceSequenceAdjointJS(
  gradOut: Float32Array, draw: GlanceDraw, mode: Resampling = 'bilinear', out?: Float32Array,
): Float32Array {
  const n = draw.n;
  checkDraw(draw, 'glanceSequenceAdjointJS');
  checkLength(gradOut, n * GLANCE_STEPS * PIXELS, 'glanceSequenceAdjointJS: gradOut');
  const gx = out ?? new Float32Array(n * PIXELS);
  checkLength(gx, n * PIXELS, 'glanceSequenceAdjointJS: out');
  const scatter = mode === 'nearest' ? scatterNearest : scatterBilinear;
  for (let i = 0; i < n; i++) {
    setMaps(draw, i);
    const base = i * GLANCE_STEPS * PIXELS;
    // cur holds g_k + A_{k+1}^T(...) for k = 5 down to 0.
    let cur = gradOut;
    let curOff = base + 5 * PIXELS;
    for (let k = 5; k >= 1; k--) {
      const dst = k === 1 ? gx : k % 2 === 1 ? scratchA : scratchB;
      const dOff = k === 1 ? i * PIXELS : 0;
      const gOff = base + (k - 1) * PIXELS;
      dst.set(gradOut.subarray(gOff, gOff + PIXELS), dOff);
      const m = (k - 1) * 4;
      scatter(cur, curOff, dst, dOff, maps[m], maps[m + 1], maps[m + 2], maps[m + 3]);
      cur = dst;
      curOff = dOff;
    }
  }
  return gx;
}

/**
 * The tf op: x [n, 784] -> the sequence [n, 6, 784], with its gradient given by
 * the adjoint (no gather kernel, so it works on every backend). Call inside the
 * caller's tf.tidy.
 */
export function glanceSequence(x: tf.Tensor2D, draw: GlanceDraw, mode: Resampling = 'bilinear'): tf.Tensor3D {
  const n = draw.n;
  if (x.rank !== 2 || x.shape[0] !== n || x.shape[1] !== PIXELS) {
    throw new RangeError(`glanceSequence: x must have shape [${n}, ${PIXELS}] (draw.n = ${n}), got [${x.shape.join(', ')}]`);
  }
  if (x.dtype !== 'float32') throw new TypeError(`glanceSequence: x must be float32, got ${x.dtype}`);
  // Linear in x and independent of it in the backward pass, so nothing is saved.
  // dataSync may hand back the tensor's own storage (cpu backend): it is only read;
  // the JS functions allocate fresh outputs, which the new tensors then own.
  const op = tf.customGrad((input) => {
    const xs = (input as tf.Tensor).dataSync() as Float32Array;
    return {
      value: tf.tensor3d(glanceSequenceJS(xs, draw, mode), [n, GLANCE_STEPS, PIXELS]),
      gradFunc: (dy: tf.Tensor) =>
        tf.tensor2d(glanceSequenceAdjointJS(dy.dataSync() as Float32Array, draw, mode), [n, PIXELS]),
    };
  });
  return op(x) as tf.Tensor3D;
}

const COS_90 = [1, 0, -1, 0];
const SIN_90 = [0, 1, 0, -1];

/** The inverse maps [a b; d e] of the 5 steps of sample i into `maps`. */
function setMaps(draw: GlanceDraw, i: number): void {
  setRotation(0, draw.angles[i * 4]);
  setRotation(4, draw.angles[i * 4 + 1]);
  setRotation(8, draw.angles[i * 4 + 2]);
  const inv = 1 / draw.scales[i];
  maps[12] = inv;
  maps[13] = 0;
  maps[14] = 0;
  maps[15] = inv;
  setRotation(16, draw.angles[i * 4 + 3]);
}

/**
 * A counter-clockwise (as displayed) rotation by deg sends offset (dx, dy) from the
 * centre to (dx cos + dy sin, -dx sin + dy cos); its inverse is [cos -sin; sin cos].
 * Multiples of 90 degrees are exact.
 */
function setRotation(m: number, deg: number): void {
  let c: number;
  let s: number;
  const q = deg / 90;
  if (Number.isInteger(q)) {
    const r = ((q % 4) + 4) % 4;
    c = COS_90[r];
    s = SIN_90[r];
  } else {
    const t = (deg * Math.PI) / 180;
    c = Math.cos(t);
    s = Math.sin(t);
  }
  maps[m] = c;
  maps[m + 1] = -s;
  maps[m + 2] = s;
  maps[m + 3] = c;
}

function checkLength(a: Float32Array, expected: number, what: string): void {
  if (a.length !== expected) throw new RangeError(`${what} has length ${a.length}, expected ${expected}`);
}
