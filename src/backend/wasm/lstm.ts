/**
 * The LSTM op's kernels on the WASM backend: each time step's pointwise work (gate
 * activations, cell and hidden state forward; a whole step of backpropagation
 * through time backward) is one SIMD kernel (kernels.wat) instead of about a dozen
 * elementwise tfjs kernels per step and direction; the matmuls stay tfjs's
 * (XNNPACK). exp, sigmoid and tanh are polynomial approximations (~3 ulp; the
 * parity test holds the op to the cpu reference).
 * Cache layout: [T, 6 n h], per step the activated gates [n, 4h] (i, f, g, o),
 * then c [n, h], then tanh(c) [n, h]. Needs h a multiple of 4 (SIMD lanes); other
 * sizes run the reference kernels.
 */
import * as tf from '@tensorflow/tfjs';
import { LSTM, LSTM_GRAD, lstmGradReference, lstmReference, stepFreeGrads } from '../../ops/lstm.js';
import { registerFast } from '../register.js';
import { heapOffset as at, heapOutputs, wasmKernels } from './kernels.js';

const F32 = 4;

export function registerWasmLstm(): void {
  registerFast('wasm', LSTM, ({ inputs }) => {
    const [x, w, u, b] = [inputs.x, inputs.kernel, inputs.recurrentKernel, inputs.bias] as tf.Tensor[];
    const [n, steps, inSize] = x.shape;
    const units = u.shape[0];
    if (units % 4 !== 0) return lstmReference(x, w, u, b);
    return tf.tidy(() => {
      const kernels = wasmKernels();
      const projected = tf.add(tf.matMul(tf.reshape(x, [n * steps, inSize]) as tf.Tensor2D, w as tf.Tensor2D), b);
      const byStep = tf.unstack(tf.reshape(projected, [n, steps, 4 * units]), 1);
      const nu = n * units * F32;
      const [cache] = heapOutputs([steps, 6 * n * units]);
      const zeros = tf.zeros([n, units]);
      const hs: tf.Tensor[] = [];
      for (let t = 0; t < steps; t++) {
        const gates = t === 0 ? byStep[0] : tf.add(byStep[t], tf.matMul(hs[t - 1] as tf.Tensor2D, u as tf.Tensor2D));
        const [h] = heapOutputs([n, units]);
        const acts = at(cache) + t * 6 * nu;
        const cPrev = t === 0 ? at(zeros) : acts - 2 * nu;
        kernels.lstmForward(at(gates), cPrev, acts, acts + 4 * nu, acts + 5 * nu, at(h), n, units);
        hs.push(h);
      }
      return [tf.stack(hs, 1), cache];
    });
  });

  registerFast('wasm', LSTM_GRAD, ({ inputs }) => {
    const [dy, x, w, u, h, cache] = [inputs.dy, inputs.x, inputs.kernel, inputs.recurrentKernel, inputs.h, inputs.cache] as tf.Tensor[];
    const [n, steps] = x.shape;
    const units = u.shape[0];
    if (units % 4 !== 0) return lstmGradReference(dy, x, w, u, h, cache);
    return tf.tidy(() => {
      const kernels = wasmKernels();
      const nu = n * units * F32;
      const dOut = tf.unstack(dy, 1);
      const zeros = tf.zeros([n, units]);
      const dz: tf.Tensor[] = new Array(steps);
      let dhNext = zeros;
      let dcNext = zeros;
      for (let t = steps - 1; t >= 0; t--) {
        const [dzt, dcPrev] = heapOutputs([n, 4 * units], [n, units]);
        const acts = at(cache) + t * 6 * nu;
        const cPrev = t > 0 ? acts - 2 * nu : at(zeros);
        kernels.lstmBackward(at(dOut[t]), at(dhNext), at(dcNext), acts, acts + 5 * nu, cPrev, at(dzt), at(dcPrev), n, units);
        dz[t] = dzt;
        if (t > 0) {
          dhNext = tf.matMul(dzt as tf.Tensor2D, u as tf.Tensor2D, false, true);
          dcNext = dcPrev;
        }
      }
      return stepFreeGrads(dz, x, w, u, h);
    });
  });
}
