/**
 * A stacked-LSTM layer written with fused ops: the input projection of all time
 * steps is one matmul ([n*T, in] x [in, 4h]); only the recurrent matmul runs per
 * step. Gate order i, f, g, o as in PyTorch's nn.LSTM; zero initial state.
 * Also serves packed replicates (packed.ts): x [R, n, T, in] with kernels
 * [R, in, 4h], [R, h, 4h] and bias [R, 1, 4h] become batched matmuls.
 */
import * as tf from '@tensorflow/tfjs';

export interface LstmParams {
  inputKernel: tf.Tensor; // [in, 4h] or [R, in, 4h]
  recurrentKernel: tf.Tensor; // [h, 4h] or [R, h, 4h]
  bias: tf.Tensor; // [4h] or [R, 1, 4h]
}

/** x: [n, T, in] (or [R, n, T, in]) -> all hidden states [n, T, h] (or [R, n, T, h]). Call inside tf.tidy. */
export function lstmLayer<X extends tf.Tensor3D | tf.Tensor4D>(x: X, p: LstmParams): X {
  const lead = x.shape.slice(0, -3);
  const [n, steps, inSize] = x.shape.slice(-3);
  const units = p.recurrentKernel.shape[p.recurrentKernel.rank - 2];
  const stepAxis = x.rank - 2;
  const mm = (a: tf.Tensor, b: tf.Tensor) => tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D);
  const projected = tf.add(mm(tf.reshape(x, [...lead, n * steps, inSize]), p.inputKernel), p.bias);
  const byStep = tf.unstack(tf.reshape(projected, [...lead, n, steps, 4 * units]), stepAxis);
  let h: tf.Tensor = tf.zeros([...lead, n, units]);
  let c: tf.Tensor = tf.zeros([...lead, n, units]);
  const outputs: tf.Tensor[] = [];
  for (let t = 0; t < steps; t++) {
    const gates = t === 0 ? byStep[t] : tf.add(byStep[t], mm(h, p.recurrentKernel));
    const [i, f, g, o] = tf.split(gates, 4, gates.rank - 1);
    c = tf.add(tf.mul(tf.sigmoid(f), c), tf.mul(tf.sigmoid(i), tf.tanh(g)));
    h = tf.mul(tf.sigmoid(o), tf.tanh(c));
    outputs.push(h);
  }
  return tf.stack(outputs, stepAxis) as X;
}
