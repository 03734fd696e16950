/**
 * One LSTM layer over a whole sequence as one differentiable op:
 * x [n, T, in] -> the hidden states of all steps [n, T, h]. Gate order i, f, g, o
 * as in PyTorch's nn.LSTM, zero initial state, no forget bias:
 *   z_t = x_t W + h_{t-1} U + b,  i, f, o = sigmoid(.), g = tanh(.)
 *   c_t = f c_{t-1} + i g,        h_t = o tanh(c_t)
 *
 * Two named kernels carry it, so each backend can register faster ones
 * (src/backend/node: TensorFlow's BlockLSTMV2; src/backend/wasm: SIMD steps):
 *   'GlanceLstm'      {x, kernel, recurrentKernel, bias} -> [h, cache]
 *   'GlanceLstmGrad'  {dy, x, kernel, recurrentKernel, bias, h, cache} -> [dx, dKernel, dRecurrentKernel, dBias]
 * `cache` holds what backpropagation through time needs; its layout belongs to
 * the pair of kernels of one backend (the forward and backward pass of one op
 * always run on the same backend), so only h is the op's value.
 * The reference kernels below are the definition: plain tfjs ops, a step at a time.
 */
import * as tf from '@tensorflow/tfjs';
import { asTensor, registerReference, runKernel } from './registry.js';

export const LSTM = 'GlanceLstm';
export const LSTM_GRAD = 'GlanceLstmGrad';

export interface LstmParams {
  inputKernel: tf.Tensor2D; // [in, 4h]
  recurrentKernel: tf.Tensor2D; // [h, 4h]
  bias: tf.Tensor1D; // [4h]
}

const mm = (a: tf.Tensor, b: tf.Tensor, transposeA = false, transposeB = false) =>
  tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D, transposeA, transposeB);

/** Reference forward: [h [n, T, u], cache [6, T, n, u] = i, f, g, o, c, tanh(c) per step]. */
export function lstmReference(x: tf.Tensor, w: tf.Tensor, u: tf.Tensor, b: tf.Tensor): tf.Tensor[] {
  return tf.tidy(() => {
    const [n, steps, inSize] = x.shape;
    const units = u.shape[0];
    const projected = tf.add(mm(tf.reshape(x, [n * steps, inSize]), w), b);
    const byStep = tf.unstack(tf.reshape(projected, [n, steps, 4 * units]), 1);
    const saved: tf.Tensor[][] = [[], [], [], [], [], []];
    const hs: tf.Tensor[] = [];
    let h: tf.Tensor | undefined;
    let c: tf.Tensor | undefined;
    for (let t = 0; t < steps; t++) {
      const gates = h ? tf.add(byStep[t], mm(h, u)) : byStep[t];
      const [zi, zf, zg, zo] = tf.split(gates, 4, -1);
      const [i, f, g, o] = [tf.sigmoid(zi), tf.sigmoid(zf), tf.tanh(zg), tf.sigmoid(zo)];
      c = c ? tf.add(tf.mul(f, c), tf.mul(i, g)) : tf.mul(i, g);
      const tau = tf.tanh(c);
      h = tf.mul(o, tau);
      [i, f, g, o, c, tau].forEach((s, k) => saved[k].push(s));
      hs.push(h);
    }
    return [tf.stack(hs, 1), tf.stack(saved.map((list) => tf.stack(list)))];
  });
}

/**
 * The gradients that do not depend on the recurrence, from the gate pre-activation
 * gradients dz_t of all steps ([n, 4h] each): dx, dKernel, dRecurrentKernel, dBias,
 * each one matmul (or sum) over all steps. Every backend's gradient kernel ends here.
 */
export function stepFreeGrads(dz: tf.Tensor[], x: tf.Tensor, w: tf.Tensor, u: tf.Tensor, h: tf.Tensor): tf.Tensor[] {
  const [n, steps, inSize] = x.shape;
  const units = u.shape[0];
  const dzAll = tf.stack(dz, 1); // [n, T, 4h]
  const dzFlat = tf.reshape(dzAll, [n * steps, 4 * units]);
  const dx = tf.reshape(mm(dzFlat, w, false, true), x.shape);
  const dw = mm(tf.reshape(x, [n * steps, inSize]), dzFlat, true, false);
  const db = tf.sum(dzFlat, 0);
  // The recurrent kernel sees h_{t-1} at step t (t >= 1; the initial state is zero).
  let du = tf.zerosLike(u);
  if (steps > 1) {
    const hPrev = tf.reshape(tf.slice(h, [0, 0, 0], [n, steps - 1, units]), [n * (steps - 1), units]);
    const dzNext = tf.reshape(tf.slice(dzAll, [0, 1, 0], [n, steps - 1, 4 * units]), [n * (steps - 1), 4 * units]);
    du = mm(hPrev, dzNext, true, false);
  }
  return [dx, dw, du, db];
}

/** Reference backward (backpropagation through time) over the reference cache. */
export function lstmGradReference(dy: tf.Tensor, x: tf.Tensor, w: tf.Tensor, u: tf.Tensor, h: tf.Tensor, cache: tf.Tensor): tf.Tensor[] {
  return tf.tidy(() => {
    const steps = x.shape[1]!;
    const [i, f, g, o, c, tau] = tf.unstack(cache).map((s) => tf.unstack(s));
    const dOut = tf.unstack(dy, 1);
    const dz: tf.Tensor[] = new Array(steps);
    let dhNext: tf.Tensor | undefined;
    let dcNext: tf.Tensor | undefined;
    for (let t = steps - 1; t >= 0; t--) {
      const dh = dhNext ? tf.add(dOut[t], dhNext) : dOut[t];
      const dTau = tf.mul(tf.mul(dh, o[t]), tf.sub(1, tf.square(tau[t])));
      const dc = dcNext ? tf.add(dTau, dcNext) : dTau;
      // Through the activations: sigmoid' = s (1 - s), tanh' = 1 - t^2.
      const di = tf.mul(tf.mul(dc, g[t]), tf.mul(i[t], tf.sub(1, i[t])));
      const df = t > 0 ? tf.mul(tf.mul(dc, c[t - 1]), tf.mul(f[t], tf.sub(1, f[t]))) : tf.zerosLike(dc);
      const dg = tf.mul(tf.mul(dc, i[t]), tf.sub(1, tf.square(g[t])));
      const dO = tf.mul(tf.mul(dh, tau[t]), tf.mul(o[t], tf.sub(1, o[t])));
      dz[t] = tf.concat([di, df, dg, dO], -1);
      if (t > 0) {
        dhNext = mm(dz[t], u, false, true);
        dcNext = tf.mul(dc, f[t]);
      }
    }
    return stepFreeGrads(dz, x, w, u, h);
  });
}

registerReference(LSTM, ({ inputs: s }) =>
  lstmReference(asTensor(s.x), asTensor(s.kernel), asTensor(s.recurrentKernel), asTensor(s.bias)),
);
registerReference(LSTM_GRAD, ({ inputs: s }) =>
  lstmGradReference(asTensor(s.dy), asTensor(s.x), asTensor(s.kernel), asTensor(s.recurrentKernel), asTensor(s.h), asTensor(s.cache)),
);

/** x [n, T, in] -> all hidden states [n, T, h]; differentiable in x and the three weights. Call inside tf.tidy. */
export function lstm(x: tf.Tensor3D, p: LstmParams): tf.Tensor3D {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [xs, kernel, recurrentKernel, bias] = args as tf.Tensor[];
    const save = args[4] as tf.GradSaveFunc;
    const [h, cache] = runKernel(LSTM, { x: xs, kernel, recurrentKernel, bias });
    save([xs, kernel, recurrentKernel, bias, h, cache]);
    return {
      value: h,
      gradFunc: (dy: tf.Tensor, [sx, sw, su, sb, sh, sc]: tf.Tensor[]) =>
        runKernel(LSTM_GRAD, { dy, x: sx, kernel: sw, recurrentKernel: su, bias: sb, h: sh, cache: sc }),
    };
  });
  return op(x, p.inputKernel, p.recurrentKernel, p.bias) as tf.Tensor3D;
}
