/**
 * A stacked-LSTM layer written with fused ops: the input projection of all time
 * steps is one matmul ([n*T, in] x [in, 4h]); only the recurrent matmul runs per
 * step. Gate order i, f, g, o as in PyTorch's nn.LSTM; zero initial state.
 */
import * as tf from '@tensorflow/tfjs';

export interface LstmParams {
  inputKernel: tf.Tensor2D; // [in, 4h]
  recurrentKernel: tf.Tensor2D; // [h, 4h]
  bias: tf.Tensor1D; // [4h]
}

/** x: [n, T, in] -> all hidden states [n, T, h]. Call inside tf.tidy. */
export function lstmLayer(x: tf.Tensor3D, p: LstmParams): tf.Tensor3D {
  const [n, steps, inSize] = x.shape;
  const units = p.recurrentKernel.shape[0];
  const projected = tf.add(tf.matMul(tf.reshape(x, [n * steps, inSize]), p.inputKernel), p.bias);
  const byStep = tf.unstack(tf.reshape(projected, [n, steps, 4 * units]), 1) as tf.Tensor2D[];
  let h: tf.Tensor2D = tf.zeros([n, units]);
  let c: tf.Tensor2D = tf.zeros([n, units]);
  const outputs: tf.Tensor2D[] = [];
  for (let t = 0; t < steps; t++) {
    const gates = t === 0 ? byStep[t] : tf.add(byStep[t], tf.matMul(h, p.recurrentKernel));
    const [i, f, g, o] = tf.split(gates, 4, 1) as tf.Tensor2D[];
    c = tf.add(tf.mul(tf.sigmoid(f), c), tf.mul(tf.sigmoid(i), tf.tanh(g)));
    h = tf.mul(tf.sigmoid(o), tf.tanh(c));
    outputs.push(h);
  }
  return tf.stack(outputs, 1) as tf.Tensor3D;
}
