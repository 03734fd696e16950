/**
 * Adam on native TensorFlow as its fused kernel, ResourceApplyAdam: one kernel per
 * weight updates the weight and both moments in place, in one pass over memory. The
 * same update written with tfjs ops costs ~14 elementwise kernels over every weight
 * (each a full pass and a kernel call): 0.5 ms of a 1.2 ms NormalNet step and
 * ~2.8 ms of a GlanceAgain step at batch 64 (bench/results.md).
 *
 * The kernel works on resource variables, which tfjs-node does not wrap: the handles
 * are made here with VarHandleOp (anonymous, so each is freed with its last handle)
 * and used through the binding's raw tensor ids. After a step the new weight is read
 * out (ReadVariableOp) into a tfjs tensor; TensorFlow copies a variable on write
 * while such a read is alive, so a tensor read before a step keeps its values.
 *
 * TensorFlow's update is var -= lr_t * m / (sqrt(v) + epsilon) with
 * lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t): PyTorch's and tfjs's Adam (epsilon
 * added to the bias-corrected sqrt(v^)) when epsilon is passed as eps * sqrt(1 - beta2^t).
 */
import * as tf from '@tensorflow/tfjs';
import { nodeBackend } from './native-kernels.js';

interface TensorInfo {
  id: number;
}

interface Binding {
  TF_FLOAT: number;
  TF_ATTR_STRING: number;
  TF_ATTR_TYPE: number;
  TF_ATTR_SHAPE: number;
  executeOp(name: string, attrs: unknown[], inputIds: number[], numOutputs: number): TensorInfo[];
  createTensor(shape: number[], dtype: number, values: Float32Array): number;
  deleteTensor(id: number): void;
}

interface RawBackend {
  binding: Binding;
  getInputTensorIds(tensors: tf.Tensor[]): number[];
  createOutputTensor(info: TensorInfo): tf.Tensor;
}

/** ResourceHandle::ANONYMOUS_NAME in TensorFlow: a variable owned by its handle, not shared by name. */
const ANONYMOUS_NAME = 'cd2c89b7-88b7-44c8-ad83-06c2a9158347';

/** The resource variables of one optimiser: every weight with its two moments. */
export class NativeAdamState {
  private readonly raw = nodeBackend() as unknown as RawBackend;
  private readonly floatType: unknown[];
  /** Per weight: handle ids of the weight, m and v. */
  private readonly handles: Array<[number, number, number]>;
  /** lr, beta1, beta2: scalars made once. */
  private readonly constants: number[];

  constructor(values: tf.Tensor[], lr: number, private readonly beta1: number, private readonly beta2: number) {
    const b = this.raw.binding;
    this.floatType = [{ name: 'dtype', type: b.TF_ATTR_TYPE, value: b.TF_FLOAT }];
    this.handles = values.map((w) => {
      const zeros = tf.zerosLike(w);
      const ids = [w, zeros, zeros].map((init) => {
        const id = this.variable(w.shape);
        b.executeOp('AssignVariableOp', this.floatType, [id, ...this.raw.getInputTensorIds([init])], 0);
        return id;
      });
      zeros.dispose();
      return ids as [number, number, number];
    });
    this.constants = [lr, beta1, beta2].map((c) => this.scalar(c));
  }

  private variable(shape: number[]): number {
    const b = this.raw.binding;
    return b.executeOp('VarHandleOp', [
      { name: 'container', type: b.TF_ATTR_STRING, value: '' },
      { name: 'shared_name', type: b.TF_ATTR_STRING, value: ANONYMOUS_NAME },
      { name: 'shape', type: b.TF_ATTR_SHAPE, value: shape },
      ...this.floatType,
    ], [], 1)[0].id;
  }

  private scalar(value: number): number {
    return this.raw.binding.createTensor([], this.raw.binding.TF_FLOAT, Float32Array.of(value));
  }

  /** Overwrites weight k's variable (the caller's weight changed outside the optimiser). */
  reset(k: number, value: tf.Tensor): void {
    this.raw.binding.executeOp('AssignVariableOp', this.floatType, [this.handles[k][0], ...this.raw.getInputTensorIds([value])], 0);
  }

  /**
   * One Adam step t from the gradients (in the constructor's order); returns the
   * new weights as tfjs tensors owned by the caller.
   */
  step(grads: tf.Tensor[], t: number, epsilon: number): tf.Tensor[] {
    const b = this.raw.binding;
    const [lr, b1, b2] = this.constants;
    const perStep = [this.beta1 ** t, this.beta2 ** t, epsilon * Math.sqrt(1 - this.beta2 ** t)].map((c) => this.scalar(c));
    const gradIds = this.raw.getInputTensorIds(grads);
    const applyAttrs = [{ name: 'T', type: b.TF_ATTR_TYPE, value: b.TF_FLOAT }];
    try {
      this.handles.forEach(([w, m, v], k) => {
        b.executeOp('ResourceApplyAdam', applyAttrs, [w, m, v, perStep[0], perStep[1], lr, b1, b2, perStep[2], gradIds[k]], 0);
      });
    } finally {
      perStep.forEach((id) => b.deleteTensor(id));
    }
    return this.handles.map(([w]) => this.raw.createOutputTensor(b.executeOp('ReadVariableOp', this.floatType, [w], 1)[0]));
  }

  dispose(): void {
    const b = this.raw.binding;
    for (const ids of this.handles) ids.forEach((id) => b.deleteTensor(id));
    this.constants.forEach((id) => b.deleteTensor(id));
    this.handles.length = 0;
  }
}
