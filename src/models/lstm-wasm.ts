/**
 * The LSTM layer on the WASM backend with each time step's pointwise work as one
 * SIMD kernel (src/backend/wasm-kernels.wat): the gate activations, cell and hidden state
 * forward, and the whole step of backpropagation through time backward. Through
 * tfjs's ops that is ~12 elementwise kernels per step and direction, each a small
 * pass paying a kernel call (lstm.ts); the matmuls stay tfjs's (XNNPACK): the input
 * projection, the recurrent product per step, and the input and weight gradients
 * over all steps at once (lstm-grads.ts, shared with lstm.ts).
 *
 * Same formulas and operation order as lstm.ts's tfjs ops, except exp, sigmoid and
 * tanh, which are polynomial approximations here (within 1.7e-7 of float64, measured;
 * test/wasm-lstm.test.ts compares them, the value and all four gradients with the
 * tfjs-op layer on cpu). Zero initial
 * state; gate order i, f, g, o. x [n, T, in], units a multiple of 4.
 */
import * as tf from '@tensorflow/tfjs';
import { heapOffset as at, heapOutputs, wasmKernels } from '../backend/wasm-kernels.js';
import { lstmStepFreeGrads } from './lstm-grads.js';

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
    return lstmStepFreeGrads(dz, sx, sw, su, sh, b.shape);
  };
  return { value, gradFunc };
});
