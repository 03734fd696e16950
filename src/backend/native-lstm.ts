/**
 * The LSTM layer on the node backend as TensorFlow's own fused kernels:
 * BlockLSTMV2 runs all time steps of the forward pass in one kernel and
 * BlockLSTMGradV2 all of backpropagation through time in another. Through tfjs's
 * op set the same layer is ~90 kernels forward and ~90 backward, each paying
 * tfjs-node's per-kernel cost (bench/results.md). The V2 kernels use PyTorch's
 * gate order i, f, g, o, have no forget bias, and do not clip the cell when
 * cell_clip is 0 (test/backend-parity.test.ts checks them against the
 * tfjs-op implementation in src/models/lstm.ts).
 *
 * tfjs-node runs a kernel it does not wrap through its backend's
 * executeMultipleOutputs; the sequence length is an int64 scalar, made once
 * (sequenceLength below).
 */
import * as tf from '@tensorflow/tfjs';
import { nodeBackend, nodeHelpers } from './native-kernels.js';

/**
 * The int64 scalar `steps` as a tensor on the TensorFlow side, made once per value.
 * tfjs-node turns an Int64Scalar input into a new TensorFlow tensor on every call
 * and never deletes it: 1.7 KB of native memory per forward + backward pass of a
 * layer (bench/leak-lstm.ts; ~50 MB for one GlanceAgain seed's 15 epochs).
 */
const sequenceLengths = new Map<number, tf.Tensor>();
function sequenceLength(steps: number): tf.Tensor {
  let t = sequenceLengths.get(steps);
  if (!t) {
    const backend = nodeBackend();
    const { Int64Scalar, createTensorsTypeOpAttr } = nodeHelpers();
    // Identity of an Int64Scalar gives a tensor tfjs can hold (as 'int32'; the
    // TensorFlow handle stays int64). tfjs-node warns about int64 outputs; this one is meant.
    const warn = console.warn;
    console.warn = () => {};
    try {
      t = tf.keep(backend.executeMultipleOutputs('Identity', [createTensorsTypeOpAttr('T', 'int64')], [new Int64Scalar(steps)], 1)[0]);
    } finally {
      console.warn = warn;
    }
    sequenceLengths.set(steps, t);
  }
  return t;
}

/** The hidden states [n, T, h] of x [n, T, in]; differentiable in all four inputs. Call inside tf.tidy. */
export const nativeLstm = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const [x, w, u, b] = args as tf.Tensor[];
  const save = args[4] as tf.GradSaveFunc;
  const backend = nodeBackend();
  const { createTensorsTypeOpAttr } = nodeHelpers();
  const [n, steps, inSize] = x.shape;
  const units = u.shape[0];
  const float = createTensorsTypeOpAttr('T', 'float32');
  const noPeephole = { name: 'use_peephole', type: backend.binding.TF_ATTR_BOOL, value: false };
  const timeMajor = tf.transpose(x, [1, 0, 2]);
  const kernel = tf.concat([w, u], 0); // BlockLSTM multiplies [x_t, h_{t-1}] by one [in + h, 4h] kernel
  const state = tf.zeros([n, units]);
  const peephole = tf.zeros([units]); // inputs the kernel requires even when use_peephole is false
  const common = [timeMajor, state, state, kernel, peephole, peephole, peephole, b];
  // Outputs, each [T, n, h]: i, cs, f, o, ci (= g), co (= tanh(cs)), h.
  const outs = backend.executeMultipleOutputs(
    'BlockLSTMV2',
    [{ name: 'cell_clip', type: backend.binding.TF_ATTR_FLOAT, value: 0 }, noPeephole, float],
    [sequenceLength(steps), ...common],
    7,
  );
  const value = tf.transpose(outs[6], [1, 0, 2]);
  save([timeMajor, state, kernel, peephole, b, ...outs]);

  const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
    const [sx, sState, sKernel, sPeephole, sBias] = saved;
    const activations = saved.slice(5);
    const noCellGrad = tf.zerosLike(activations[1]); // only h is an output of the layer
    // Outputs: x_grad, cs_prev_grad, h_prev_grad, w_grad, wci_grad, wcf_grad, wco_grad, b_grad.
    const grads = backend.executeMultipleOutputs(
      'BlockLSTMGradV2',
      [noPeephole, float],
      [
        sequenceLength(steps), sx, sState, sState, sKernel, sPeephole, sPeephole, sPeephole, sBias,
        ...activations, noCellGrad, tf.transpose(dy, [1, 0, 2]),
      ],
      8,
    );
    const [dw, du] = tf.split(grads[3], [inSize, units], 0);
    return [tf.transpose(grads[0], [1, 0, 2]), dw, du, grads[7]];
  };
  return { value, gradFunc };
});
