/**
 * ReLU with a gradient of three plain kernels: dy * (y > 0). tfjs's own ReLU
 * gradient calls Step, which tfjs-node builds from ~10 kernels and a JavaScript
 * array of ones the size of the input (a GlanceAgain step's [384, 784] decoder
 * output paid for it every step). Same subgradient at 0 as tfjs (0).
 */
import * as tf from '@tensorflow/tfjs';

const reluOp = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const x = args[0] as tf.Tensor;
  const save = args[1] as tf.GradSaveFunc;
  const value = tf.relu(x);
  save([value]);
  return { value, gradFunc: (dy: tf.Tensor, [y]: tf.Tensor[]) => tf.mul(dy, tf.cast(tf.greater(y, 0), 'float32')) };
});

export function relu<T extends tf.Tensor>(x: T): T {
  return reluOp(x) as T;
}
