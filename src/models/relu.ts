/**
 * ReLU with a gradient of three plain kernels, one (ReluGrad) on native TensorFlow:
 * dy * (y > 0). tfjs's own ReLU gradient calls Step, which tfjs-node builds from
 * ~10 kernels and a JavaScript array of ones the size of the input (a GlanceAgain
 * step's [384, 784] decoder output paid for it every step). Same subgradient at 0
 * as tfjs (0).
 */
import * as tf from '@tensorflow/tfjs';
import { onNativeBackend, onWasmBackend } from '../backend/load.js';
import { nativeReluGrad } from '../backend/native-kernels.js';
import { heapOffset, heapOutputs, wasmKernels } from '../backend/wasm-kernels.js';

/**
 * dy * (y > 0) for y the output of a ReLU: one kernel on native TensorFlow, one SIMD
 * kernel on wasm (there Greater, Cast and Multiply took 1.5 ms on a GlanceAgain
 * step's [384, 784] decoder output, the kernel 0.07 ms).
 */
export function reluGrad<T extends tf.Tensor>(dy: T, y: T): T {
  if (onNativeBackend()) return nativeReluGrad(dy, y);
  if (onWasmBackend() && dy.dtype === 'float32' && y.dtype === 'float32' && tf.util.arraysEqual(dy.shape, y.shape)) {
    const [out] = heapOutputs([...dy.shape]);
    wasmKernels().reluGrad(heapOffset(dy), heapOffset(y), heapOffset(out), dy.size);
    return out as T;
  }
  return tf.mul(dy, tf.cast(tf.greater(y, 0), 'float32')) as T;
}

const reluOp = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const x = args[0] as tf.Tensor;
  const save = args[1] as tf.GradSaveFunc;
  const value = tf.relu(x);
  save([value]);
  return { value, gradFunc: (dy: tf.Tensor, [y]: tf.Tensor[]) => reluGrad(dy, y) };
});

export function relu<T extends tf.Tensor>(x: T): T {
  return reluOp(x) as T;
}
