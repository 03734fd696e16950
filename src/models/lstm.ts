/**
 * A stacked-LSTM layer as ONE differentiable op with a hand-written backward pass
 * (backpropagation through time). At batch 64 a training step costs per op, not per
 * FLOP (bench/results.md): tfjs's autodiff of the per-step gate arithmetic ran
 * ~57 kernels per step and layer (plus an Identity clone of every tensor it saved
 * and a Cast in every Multiply gradient); this runs ~12 forward and ~12 backward.
 * Work that does not depend on the recurrence is done for all steps at once: the
 * input projection ([n*T, in] x [in, 4h]), the gate derivatives, and the weight
 * gradients (one matmul each over all steps).
 *
 * Gate order i, f, g, o as in PyTorch's nn.LSTM; zero initial state. Also serves
 * packed replicates (packed.ts): x [R, n, T, in] with kernels [R, in, 4h],
 * [R, h, 4h] and bias [R, 1, 4h] become batched matmuls.
 */
import * as tf from '@tensorflow/tfjs';
import { onNativeBackend, TFJS_BACKEND } from '../backend/load.js';
import { nativeLstm } from '../backend/native-lstm.js';
import { wasmLstm } from '../backend/wasm-lstm.js';

export interface LstmParams {
  inputKernel: tf.Tensor; // [in, 4h] or [R, in, 4h]
  recurrentKernel: tf.Tensor; // [h, 4h] or [R, h, 4h]
  bias: tf.Tensor; // [4h] or [R, 1, 4h]
}

const mm = (a: tf.Tensor, b: tf.Tensor, transposeA = false, transposeB = false) =>
  tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D, transposeA, transposeB) as tf.Tensor;

/** The layer as a tfjs custom-gradient op: (x, inputKernel, recurrentKernel, bias) -> hidden states of all steps. */
const lstmOp = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const [x, w, u, b] = args as tf.Tensor[];
  const save = args[4] as tf.GradSaveFunc;
  const lead = x.shape.slice(0, -3);
  const [n, steps, inSize] = x.shape.slice(-3);
  const units = u.shape[u.rank - 2];
  const stepAxis = x.rank - 2;
  const flatX = tf.reshape(x, [...lead, n * steps, inSize]);
  const projected = tf.add(mm(flatX, w), b);
  const byStep = tf.unstack(tf.reshape(projected, [...lead, n, steps, 4 * units]), stepAxis);
  const [is, fs, gs, os, cs, taus, hs] = [[], [], [], [], [], [], []] as tf.Tensor[][];
  let h: tf.Tensor | undefined;
  let c: tf.Tensor | undefined;
  for (let t = 0; t < steps; t++) {
    const gates = h ? tf.add(byStep[t], mm(h, u)) : byStep[t];
    const [zi, zf, zg, zo] = tf.split(gates, 4, -1);
    const i = tf.sigmoid(zi);
    const f = tf.sigmoid(zf);
    const g = tf.tanh(zg);
    const o = tf.sigmoid(zo);
    c = c ? tf.add(tf.mul(f, c), tf.mul(i, g)) : tf.mul(i, g);
    const tau = tf.tanh(c);
    h = tf.mul(o, tau);
    is.push(i), fs.push(f), gs.push(g), os.push(o), cs.push(c), taus.push(tau), hs.push(h);
  }
  const value = tf.stack(hs, stepAxis);
  // Per-step activations stacked on the step axis: one saved tensor each, not one per step.
  save([x, w, u, value, ...[is, fs, gs, os, cs, taus].map((list) => tf.stack(list, stepAxis))]);

  const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
    const [sx, sw, su, sh, I, F, G, O, C, Tau] = saved;
    // Derivatives of the gate activations for all steps at once, in gate order:
    // sigmoid' = s (1 - s), tanh' = 1 - t^2.
    const sigmoidGrad = (s: tf.Tensor) => tf.sub(s, tf.square(s));
    const gateGrad = tf.unstack(tf.concat([sigmoidGrad(I), sigmoidGrad(F), tf.sub(1, tf.square(G)), sigmoidGrad(O)], -1), stepAxis);
    const tauGrad = tf.unstack(tf.sub(1, tf.square(Tau)), stepAxis);
    const [i, f, g, o, c, tau] = [I, F, G, O, C, Tau].map((s) => tf.unstack(s, stepAxis));
    const dOut = tf.unstack(dy, stepAxis);
    const dz: tf.Tensor[] = new Array(steps);
    let dhNext: tf.Tensor | undefined;
    let dcNext: tf.Tensor | undefined;
    for (let t = steps - 1; t >= 0; t--) {
      const dh = dhNext ? tf.add(dOut[t], dhNext) : dOut[t];
      const dTau = tf.mul(tf.mul(dh, o[t]), tauGrad[t]);
      const dc = dcNext ? tf.add(dTau, dcNext) : dTau;
      const di = tf.mul(dc, g[t]);
      const dg = tf.mul(dc, i[t]);
      const dO = tf.mul(dh, tau[t]);
      const df = t > 0 ? tf.mul(dc, c[t - 1]) : tf.zerosLike(dc);
      dz[t] = tf.mul(tf.concat([di, df, dg, dO], -1), gateGrad[t]);
      if (t > 0) {
        dhNext = mm(dz[t], su, false, true);
        dcNext = tf.mul(dc, f[t]);
      }
    }
    const dzAll = tf.stack(dz, stepAxis); // [..., n, T, 4h]
    const dzFlat = tf.reshape(dzAll, [...lead, n * steps, 4 * units]);
    const dx = tf.reshape(mm(dzFlat, sw, false, true), sx.shape);
    const dw = mm(tf.reshape(sx, [...lead, n * steps, inSize]), dzFlat, true, false);
    const db = tf.reshape(tf.sum(dzFlat, lead.length, true), b.shape);
    // The recurrent kernel sees h_{t-1} at step t (t >= 1; the initial state is zero).
    let du = tf.zerosLike(su);
    if (steps > 1) {
      const begin = lead.map(() => 0);
      const size = [...lead, n, steps - 1, -1];
      const hPrev = tf.reshape(tf.slice(sh, [...begin, 0, 0, 0], size), [...lead, n * (steps - 1), units]);
      const dzNext = tf.reshape(tf.slice(dzAll, [...begin, 0, 1, 0], size), [...lead, n * (steps - 1), 4 * units]);
      du = mm(hPrev, dzNext, true, false);
    }
    return [dx, dw, du, db];
  };
  return { value, gradFunc };
});

/** The tfjs-op implementation on any backend (lstmLayer picks TensorFlow's fused kernels on node, SIMD kernels on wasm); exported for tests and benchmarks. */
export function lstmLayerOps<X extends tf.Tensor3D | tf.Tensor4D>(x: X, p: LstmParams): X {
  return lstmOp(x, p.inputKernel, p.recurrentKernel, p.bias) as X;
}

/** x: [n, T, in] (or [R, n, T, in]) -> all hidden states [n, T, h] (or [R, n, T, h]). Call inside tf.tidy. */
export function lstmLayer<X extends tf.Tensor3D | tf.Tensor4D>(x: X, p: LstmParams): X {
  // On native TensorFlow one fused kernel per direction (src/backend/native-lstm.ts), per replicate when packed.
  if (onNativeBackend()) {
    if (x.rank === 3) return nativeLstm(x, p.inputKernel, p.recurrentKernel, p.bias) as X;
    const [xs, ws, us, bs] = [x, p.inputKernel, p.recurrentKernel, p.bias].map((t) => tf.unstack(t));
    const units = p.recurrentKernel.shape[1]!;
    return tf.stack(xs.map((xr, r) => nativeLstm(xr, ws[r], us[r], tf.reshape(bs[r], [4 * units])))) as X;
  }
  // On wasm the pointwise work of a step as one SIMD kernel (src/backend/wasm-lstm.ts),
  // per replicate when packed (so a packed seed computes what it computes alone).
  const units = p.recurrentKernel.shape[p.recurrentKernel.rank - 2]!;
  if (tf.getBackend() === TFJS_BACKEND.wasm && units % 4 === 0) {
    if (x.rank === 3) return wasmLstm(x, p.inputKernel, p.recurrentKernel, p.bias) as X;
    const [xs, ws, us, bs] = [x, p.inputKernel, p.recurrentKernel, p.bias].map((t) => tf.unstack(t));
    return tf.stack(xs.map((xr, r) => wasmLstm(xr, ws[r], us[r], tf.reshape(bs[r], [4 * units])))) as X;
  }
  return lstmOp(x, p.inputKernel, p.recurrentKernel, p.bias) as X;
}
