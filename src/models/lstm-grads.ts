/**
 * The LSTM layer's gradients that do not depend on the recurrence, from the gate
 * pre-activation gradients dz_t of all steps: the input, input-kernel, bias and
 * recurrent-kernel gradients, each one matmul (or sum) over all steps at once.
 * Shared by the tfjs-op layer (lstm.ts) and the wasm-kernel layer (lstm-wasm.ts),
 * which differ only in how they get dz_t. Single [n, T, in] or packed [R, n, T, in].
 */
import * as tf from '@tensorflow/tfjs';

const mm = (a: tf.Tensor, b: tf.Tensor, transposeA = false, transposeB = false) =>
  tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D, transposeA, transposeB) as tf.Tensor;

/**
 * [dx, dInputKernel, dRecurrentKernel, dBias] given dz_t [..., n, 4h] per step, the
 * layer's input x [..., n, T, in], its kernels w and u, its hidden states h
 * [..., n, T, h] and the bias's shape. Call inside tf.tidy.
 */
export function lstmStepFreeGrads(dz: tf.Tensor[], x: tf.Tensor, w: tf.Tensor, u: tf.Tensor, h: tf.Tensor, biasShape: number[]): tf.Tensor[] {
  const lead = x.shape.slice(0, -3);
  const [n, steps, inSize] = x.shape.slice(-3);
  const units = u.shape[u.rank - 2];
  const dzAll = tf.stack(dz, x.rank - 2); // [..., n, T, 4h]
  const dzFlat = tf.reshape(dzAll, [...lead, n * steps, 4 * units]);
  const dx = tf.reshape(mm(dzFlat, w, false, true), x.shape);
  const dw = mm(tf.reshape(x, [...lead, n * steps, inSize]), dzFlat, true, false);
  const db = tf.reshape(tf.sum(dzFlat, lead.length, true), biasShape);
  // The recurrent kernel sees h_{t-1} at step t (t >= 1; the initial state is zero).
  let du = tf.zerosLike(u);
  if (steps > 1) {
    const begin = lead.map(() => 0);
    const size = [...lead, n, steps - 1, -1];
    const hPrev = tf.reshape(tf.slice(h, [...begin, 0, 0, 0], size), [...lead, n * (steps - 1), units]);
    const dzNext = tf.reshape(tf.slice(dzAll, [...begin, 0, 1, 0], size), [...lead, n * (steps - 1), 4 * units]);
    du = mm(hPrev, dzNext, true, false);
  }
  return [dx, dw, du, db];
}
