/**
 * The LSTM layer on the WASM backend with each time step's pointwise work as one
 * SIMD kernel (wasm-kernels.wat): the gate activations, cell and hidden state
 * forward, and the whole step of backpropagation through time backward. Through
 * tfjs's ops that is ~12 elementwise kernels per step and direction, each a small
 * pass paying a kernel call (src/models/lstm.ts); the matmuls stay tfjs's (XNNPACK):
 * the input projection, the input and weight gradients over all steps at once, and
 * the recurrent product per step.
 *
 * Same formulas and operation order as lstm.ts's tfjs ops, except exp, sigmoid and
 * tanh, which are polynomial approximations here (~1 ulp; test/wasm-lstm.test.ts
 * compares the value and all four gradients with the tfjs-op layer). Zero initial
 * state; gate order i, f, g, o. x [n, T, in], units a multiple of 4.
 */
import * as tf from '@tensorflow/tfjs';
import { heapOffset as at, heapOutputs, wasmKernels } from './wasm-kernels.js';

/** The hidden states [n, T, h] of x [n, T, in]; differentiable in all four inputs. Call inside tf.tidy. */
export const wasmLstm = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const [x, w, u, b] = args as tf.Tensor[];
  const save = args[4] as tf.GradSaveFunc;
  const [n, steps, inSize] = x.shape;
  const units = u.shape[0];
  const kernels = wasmKernels();
  const projected = tf.add(tf.matMul(tf.reshape(x, [n * steps, inSize]) as tf.Tensor2D, w as tf.Tensor2D), b);
  const byStep = tf.unstack(tf.reshape(projected, [n, steps, 4 * units]), 1);
  // The zero initial state, and the zero "next step" gradients of the last step.
  const zeros = tf.zeros([n, units]);
  let h = zeros;
  let c = zeros;
  const [acts, cs, taus, hs] = [[], [], [], []] as tf.Tensor[][];
  for (let t = 0; t < steps; t++) {
    const gates = t === 0 ? byStep[0] : tf.add(byStep[t], tf.matMul(h as tf.Tensor2D, u as tf.Tensor2D));
    const [a, cNext, tau, hNext] = heapOutputs([n, 4 * units], [n, units], [n, units], [n, units]);
    kernels.lstmForward(at(gates), at(c), at(a), at(cNext), at(tau), at(hNext), n, units);
    acts.push(a), cs.push(cNext), taus.push(tau), hs.push(hNext);
    [c, h] = [cNext, hNext];
  }
  const value = tf.stack(hs, 1);
  save([x, w, u, value, zeros, ...acts, ...cs, ...taus]);

  const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
    const [sx, sw, su, sh, sZeros] = saved;
    const [sActs, sCs, sTaus] = [0, 1, 2].map((k) => saved.slice(5 + k * steps, 5 + (k + 1) * steps));
    const dOut = tf.unstack(dy, 1);
    const dz: tf.Tensor[] = new Array(steps);
    let dhNext = sZeros;
    let dcNext = sZeros;
    for (let t = steps - 1; t >= 0; t--) {
      const [dzt, dcPrev] = heapOutputs([n, 4 * units], [n, units]);
      const cPrev = t > 0 ? sCs[t - 1] : sZeros;
      kernels.lstmBackward(at(dOut[t]), at(dhNext), at(dcNext), at(sActs[t]), at(sTaus[t]), at(cPrev), at(dzt), at(dcPrev), n, units);
      dz[t] = dzt;
      if (t > 0) {
        dhNext = tf.matMul(dzt as tf.Tensor2D, su as tf.Tensor2D, false, true);
        dcNext = dcPrev;
      }
    }
    // The weight and input gradients over all steps at once, as in lstm.ts.
    const dzAll = tf.stack(dz, 1); // [n, T, 4h]
    const dzFlat = tf.reshape(dzAll, [n * steps, 4 * units]) as tf.Tensor2D;
    const dx = tf.reshape(tf.matMul(dzFlat, sw as tf.Tensor2D, false, true), sx.shape);
    const dw = tf.matMul(tf.reshape(sx, [n * steps, inSize]) as tf.Tensor2D, dzFlat, true, false);
    const db = tf.reshape(tf.sum(dzFlat, 0, true), b.shape);
    // The recurrent kernel sees h_{t-1} at step t (t >= 1; the initial state is zero).
    let du: tf.Tensor = tf.zerosLike(su);
    if (steps > 1) {
      const hPrev = tf.reshape(tf.slice(sh, [0, 0, 0], [n, steps - 1, units]), [n * (steps - 1), units]) as tf.Tensor2D;
      const dzNext = tf.reshape(tf.slice(dzAll, [0, 1, 0], [n, steps - 1, 4 * units]), [n * (steps - 1), 4 * units]) as tf.Tensor2D;
      du = tf.matMul(hPrev, dzNext, true, false);
    }
    return [dx, dw, du, db];
  };
  return { value, gradFunc };
});
