/**
 * How an op of ours reaches a kernel: by name, through tfjs's kernel registry, as
 * tfjs's own ops do. Each op file registers a reference kernel written in plain
 * tfjs ops for every backend; src/backend/<name>/ may register a faster kernel
 * under the same name for its backend. Op code never asks which backend it is on.
 */
import * as tf from '@tensorflow/tfjs';

/** The tfjs backend names the harness runs on (node's is 'tensorflow'). */
export const BACKEND_NAMES = ['cpu', 'wasm', 'tensorflow'] as const;

/** What a kernel function gets; tensors arrive as TensorInfos of the active backend. */
export type KernelArgs = { inputs: Record<string, tf.TensorInfo>; backend: unknown; attrs?: Record<string, unknown> };
export type OpKernel = (args: KernelArgs) => tf.TensorInfo | tf.TensorInfo[];

/**
 * Registers `kernel` under `kernelName` for every backend that has none yet (a
 * backend module may have registered its own first). The kernel may compute with
 * tfjs ops: inside a kernel nothing is recorded for gradients.
 */
export function registerReference(kernelName: string, kernel: OpKernel): void {
  for (const backendName of BACKEND_NAMES) {
    if (!tf.getKernel(kernelName, backendName)) tf.registerKernel({ kernelName, backendName, kernelFunc: kernel as unknown as tf.KernelFunc });
  }
}

/** Runs a named kernel on the active backend. */
export function runKernel(kernelName: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown> = {}): tf.Tensor[] {
  const out = tf.engine().runKernel(kernelName, inputs as unknown as tf.NamedTensorMap, attrs as tf.NamedAttrMap);
  return Array.isArray(out) ? out : [out as tf.Tensor];
}

/** Tensors as the TensorInfos a kernel receives, back into tensors for tfjs ops. */
export const asTensor = (t: tf.TensorInfo): tf.Tensor =>
  t instanceof tf.Tensor ? t : tf.engine().makeTensorFromTensorInfo(t);
