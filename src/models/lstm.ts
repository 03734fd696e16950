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
import { onNativeBackend, onWasmBackend } from '../backend/load.js';
import { nativeLstm } from '../backend/native-lstm.js';
import { lstmStepFreeGrads } from './lstm-grads.js';
import { wasmLstm } from './lstm-wasm.js';

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
    return lstmStepFreeGrads(dz, sx, sw, su, sh, b.shape);
  };
  return { value, gradFunc };
});

/** The tfjs-op implementation on any backend (lstmLayer picks TensorFlow's fused kernels on node, SIMD kernels on wasm: lstm-wasm.ts); exported for tests and benchmarks. */
export function lstmLayerOps<X extends tf.Tensor3D | tf.Tensor4D>(x: X, p: LstmParams): X {
  return lstmOp(x, p.inputKernel, p.recurrentKernel, p.bias) as X;
}

type SingleLayer = (x: tf.Tensor, w: tf.Tensor, u: tf.Tensor, b: tf.Tensor) => tf.Tensor;

/**
 * A layer that takes one model's x [n, T, in] applied to x, or to each packed
 * replicate of x [R, n, T, in] (with its own kernels and bias [R, 1, 4h]), stacked.
 */
function perReplicate(layer: SingleLayer, x: tf.Tensor, p: LstmParams, units: number): tf.Tensor {
  if (x.rank === 3) return layer(x, p.inputKernel, p.recurrentKernel, p.bias);
  const [xs, ws, us, bs] = [x, p.inputKernel, p.recurrentKernel, p.bias].map((t) => tf.unstack(t));
  return tf.stack(xs.map((xr, r) => layer(xr, ws[r], us[r], tf.reshape(bs[r], [4 * units]))));
}

/** x: [n, T, in] (or [R, n, T, in]) -> all hidden states [n, T, h] (or [R, n, T, h]). Call inside tf.tidy. */
export function lstmLayer<X extends tf.Tensor3D | tf.Tensor4D>(x: X, p: LstmParams): X {
  const units = p.recurrentKernel.shape[p.recurrentKernel.rank - 2]!;
  // On native TensorFlow one fused kernel per direction (src/backend/native-lstm.ts),
  // per replicate when packed.
  if (onNativeBackend()) return perReplicate(nativeLstm, x, p, units) as X;
  // On wasm the pointwise work of a step as one SIMD kernel (lstm-wasm.ts), per
  // replicate when packed (so a packed seed computes what it computes alone).
  if (onWasmBackend() && units % 4 === 0) return perReplicate(wasmLstm, x, p, units) as X;
  return lstmOp(x, p.inputKernel, p.recurrentKernel, p.bias) as X;
}
