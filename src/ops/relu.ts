/**
 * ReLU's gradient as a named kernel, 'GlanceReluGrad': dy * (y > 0) for y the
 * ReLU's output. tfjs's own gradient of Relu goes through Step, a chain of small
 * kernels on tfjs-node; re-registering Relu's gradient here lets each backend run
 * it as one kernel (src/backend/node, src/backend/wasm). Models call tf.relu.
 * Same subgradient at 0 as tfjs (0).
 */
import * as tf from '@tensorflow/tfjs';
import { asTensor, registerReference, runKernel } from './registry.js';

export const RELU_GRAD = 'GlanceReluGrad';

/** The reference kernel: inputs {dy, y}. */
export function reluGradReference(dy: tf.Tensor, y: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(dy, tf.cast(tf.greater(y, 0), 'float32')));
}

registerReference(RELU_GRAD, ({ inputs }) => reluGradReference(asTensor(inputs.dy), asTensor(inputs.y)));

tf.registerGradient({
  kernelName: 'Relu',
  outputsToSave: [true],
  gradFunc: (dy, saved) => ({ x: () => runKernel(RELU_GRAD, { dy: dy as tf.Tensor, y: saved[0] })[0] }),
});

/** dy * (y > 0) through the registered kernel. */
export const reluGrad = (dy: tf.Tensor, y: tf.Tensor): tf.Tensor => runKernel(RELU_GRAD, { dy, y })[0];
