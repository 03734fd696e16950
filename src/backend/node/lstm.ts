/**
 * The LSTM op's kernels on the node backend as TensorFlow's fused ones:
 * BlockLSTMV2 runs every time step of the forward pass in one kernel and
 * BlockLSTMGradV2 all of backpropagation through time in another. The V2 kernels
 * use the op's gate order i, f, g, o, have no forget bias, and do not clip the
 * cell when cell_clip is 0. The cache is BlockLSTMV2's seven outputs stacked
 * ([7, T, n, h]: i, cs, f, o, ci, co, h), time-major as the kernels want them.
 */
import * as tf from '@tensorflow/tfjs';
import { LSTM, LSTM_GRAD } from '../../ops/lstm.js';
import { registerFast } from '../register.js';
import { nodeBackend, nodeHelpers } from './kernels.js';

/**
 * The int64 scalar `steps` as a TensorFlow tensor, made once per value: tfjs-node
 * turns an Int64Scalar input into a new TensorFlow tensor on every call and never
 * deletes it (bench/leak-lstm.ts).
 */
const sequenceLengths = new Map<number, tf.Tensor>();
function sequenceLength(steps: number): tf.Tensor {
  let t = sequenceLengths.get(steps);
  if (!t) {
    const { Int64Scalar, createTensorsTypeOpAttr } = nodeHelpers();
    // Identity of an Int64Scalar gives a tensor tfjs can hold (the TensorFlow
    // handle stays int64). tfjs-node warns about int64 outputs; this one is meant.
    const warn = console.warn;
    console.warn = () => {};
    try {
      t = tf.keep(nodeBackend().executeMultipleOutputs('Identity', [createTensorsTypeOpAttr('T', 'int64')], [new Int64Scalar(steps)], 1)[0]);
    } finally {
      console.warn = warn;
    }
    sequenceLengths.set(steps, t);
  }
  return t;
}

const attrs = () => {
  const backend = nodeBackend();
  return {
    float: nodeHelpers().createTensorsTypeOpAttr('T', 'float32'),
    noPeephole: { name: 'use_peephole', type: backend.binding.TF_ATTR_BOOL, value: false },
    noClip: { name: 'cell_clip', type: backend.binding.TF_ATTR_FLOAT, value: 0 },
  };
};

/** Inputs both kernels share: the zero initial state, the joined kernel [W; U], zero peepholes. */
function common(x: tf.Tensor, w: tf.Tensor, u: tf.Tensor) {
  const [n] = x.shape;
  const units = u.shape[0];
  const state = tf.zeros([n, units]);
  const peephole = tf.zeros([units]); // required inputs even when use_peephole is false
  return { state, peephole, kernel: tf.concat([w, u], 0) };
}

export function registerNodeLstm(): void {
  registerFast('tensorflow', LSTM, ({ inputs }) =>
    tf.tidy(() => {
      const [x, w, u, b] = [inputs.x, inputs.kernel, inputs.recurrentKernel, inputs.bias] as tf.Tensor[];
      const { state, peephole, kernel } = common(x, w, u);
      const { float, noPeephole, noClip } = attrs();
      const outs = nodeBackend().executeMultipleOutputs(
        'BlockLSTMV2',
        [noClip, noPeephole, float],
        [sequenceLength(x.shape[1]!), tf.transpose(x, [1, 0, 2]), state, state, kernel, peephole, peephole, peephole, b],
        7,
      );
      return [tf.transpose(outs[6], [1, 0, 2]), tf.stack(outs)];
    }),
  );
  registerFast('tensorflow', LSTM_GRAD, ({ inputs }) =>
    tf.tidy(() => {
      const [dy, x, w, u, cache] = [inputs.dy, inputs.x, inputs.kernel, inputs.recurrentKernel, inputs.cache] as tf.Tensor[];
      const inSize = x.shape[2]!;
      const units = u.shape[0];
      const { state, peephole, kernel } = common(x, w, u);
      const { float, noPeephole } = attrs();
      const activations = tf.unstack(cache);
      const noCellGrad = tf.zerosLike(activations[1]); // only h is an output of the op
      // Outputs: x_grad, cs_prev_grad, h_prev_grad, w_grad, wci_grad, wcf_grad, wco_grad, b_grad.
      const grads = nodeBackend().executeMultipleOutputs(
        'BlockLSTMGradV2',
        [noPeephole, float],
        [
          sequenceLength(x.shape[1]!), tf.transpose(x, [1, 0, 2]), state, state, kernel, peephole, peephole, peephole, inputs.bias,
          ...activations, noCellGrad, tf.transpose(dy, [1, 0, 2]),
        ],
        8,
      );
      const [dw, du] = tf.split(grads[3], [inSize, units], 0);
      return [tf.transpose(grads[0], [1, 0, 2]), dw, du, grads[7]];
    }),
  );
}
