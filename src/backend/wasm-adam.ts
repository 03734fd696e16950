/**
 * Adam on the WASM backend as one SIMD kernel per weight (wasm-kernels.wat) that
 * updates the tensors in tfjs's own heap. tfjs's ops cost ~13 elementwise kernels
 * per weight per step, each a pass over memory (2.5-3 ms of a ~47 ms GlanceAgain
 * step at batch 64). The kernel does the same float32 operations in the same
 * order, so it takes bit-identical steps (test/wasm-adam.test.ts).
 */
import type * as tf from '@tensorflow/tfjs';
import { assertUnshared, heapOffset, heapOutputs, wasmKernels } from './wasm-kernels.js';

/**
 * One Adam step of weight w with gradient g: updates the moments m and v in place
 * (they must be the optimiser's own, unshared tensors) and returns the new weight
 * as a new tensor. lrT and epsT are the bias-corrected step size and epsilon.
 */
export function wasmAdamStep(
  w: tf.Tensor, g: tf.Tensor, m: tf.Tensor, v: tf.Tensor,
  beta1: number, beta2: number, epsT: number, lrT: number,
): tf.Tensor {
  assertUnshared(m, 'wasmAdamStep: m');
  assertUnshared(v, 'wasmAdamStep: v');
  const [out] = heapOutputs([...w.shape]);
  wasmKernels().adam(heapOffset(w), heapOffset(out), heapOffset(m), heapOffset(v), heapOffset(g), w.size,
    beta1, 1 - beta1, beta2, 1 - beta2, epsT, lrT);
  return out;
}
