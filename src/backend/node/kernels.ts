/**
 * Kernels for our named ops on the node backend ('tensorflow'), each one
 * TensorFlow kernel where tfjs's ops would run a chain of small kernels, each
 * paying tfjs-node's per-call cost (bench/results.md, "Kernels"):
 *  - GlanceSoftmaxXent: SparseSoftmaxCrossEntropyWithLogits (losses and softmax - onehot);
 *  - GlanceReluGrad: ReluGrad;
 *  - GlanceLstm / GlanceLstmGrad: BlockLSTMV2 / BlockLSTMGradV2 (lstm.ts).
 * tfjs-node runs any TensorFlow kernel through its backend's executeMultipleOutputs.
 */
import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';
import { RELU_GRAD } from '../../ops/relu.js';
import { SOFTMAX_XENT } from '../../ops/softmax-xent.js';
import { registerFast } from '../register.js';
import { registerNodeLstm } from './lstm.js';

export interface NodeBackend {
  binding: { TF_ATTR_FLOAT: number; TF_ATTR_BOOL: number };
  executeMultipleOutputs(name: string, attrs: unknown[], inputs: unknown[], numOutputs: number): tf.Tensor[];
}

export interface NodeHelpers {
  Int64Scalar: new (value: number) => unknown;
  createTensorsTypeOpAttr: (name: string, dtype: string) => unknown;
}

let helpers: NodeHelpers | undefined;

/** tfjs-node's own modules (the ones its backend checks inputs against); loaded on first use. */
export function nodeHelpers(): NodeHelpers {
  if (!helpers) {
    const require = createRequire(import.meta.url);
    const { Int64Scalar } = require('@tensorflow/tfjs-node/dist/int64_tensors.js');
    const { createTensorsTypeOpAttr } = require('@tensorflow/tfjs-node/dist/nodejs_kernel_backend.js');
    helpers = { Int64Scalar, createTensorsTypeOpAttr };
  }
  return helpers;
}

export const nodeBackend = (): NodeBackend => tf.backend() as unknown as NodeBackend;

const float32 = () => nodeHelpers().createTensorsTypeOpAttr('T', 'float32');

/** Registers the node kernels of our ops (once per thread; skips names in GLANCE_DISABLE_KERNELS). */
export function installNodeKernels(): void {
  registerFast('tensorflow', SOFTMAX_XENT, ({ inputs }) =>
    nodeBackend().executeMultipleOutputs(
      'SparseSoftmaxCrossEntropyWithLogits',
      [float32(), nodeHelpers().createTensorsTypeOpAttr('Tlabels', 'int32')],
      [inputs.logits, inputs.labels],
      2,
    ),
  );
  registerFast('tensorflow', RELU_GRAD, ({ inputs }) =>
    nodeBackend().executeMultipleOutputs('ReluGrad', [float32()], [inputs.dy, inputs.y], 1)[0],
  );
  registerNodeLstm();
}
