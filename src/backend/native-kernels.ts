/**
 * Single TensorFlow kernels that tfjs-node does not wrap, for the training steps'
 * hot paths on the node backend: each replaces a chain of tfjs ops that costs a
 * kernel call per op (bench/results.md). tfjs-node runs any TensorFlow kernel
 * through its backend's executeMultipleOutputs.
 *  - SparseSoftmaxCrossEntropyWithLogits: per-example NLL of the log-softmax AND its
 *    gradient w.r.t. the logits (softmax - onehot) in one kernel (tfjs: ~12 forward,
 *    ~12 backward).
 *  - ReluGrad: dy * (y > 0) in one kernel (tfjs: Greater, Cast, Multiply).
 * Callers check onNativeBackend() first (src/backend/load.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';

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

/** logits [m, c], labels [m] int32 -> per-example NLL [m] and its gradient w.r.t. the logits [m, c]. */
export function nativeSoftmaxCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): { losses: tf.Tensor1D; backprop: tf.Tensor2D } {
  const { createTensorsTypeOpAttr } = nodeHelpers();
  const [losses, backprop] = nodeBackend().executeMultipleOutputs(
    'SparseSoftmaxCrossEntropyWithLogits',
    [createTensorsTypeOpAttr('T', 'float32'), createTensorsTypeOpAttr('Tlabels', 'int32')],
    [logits, labels],
    2,
  );
  return { losses: losses as tf.Tensor1D, backprop: backprop as tf.Tensor2D };
}

/** dy * (y > 0), for y the output (or the input) of a ReLU. */
export function nativeReluGrad<T extends tf.Tensor>(dy: T, y: T): T {
  const { createTensorsTypeOpAttr } = nodeHelpers();
  return nodeBackend().executeMultipleOutputs('ReluGrad', [createTensorsTypeOpAttr('T', 'float32')], [dy, y], 1)[0] as T;
}
