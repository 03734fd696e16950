/**
 * Registration of a backend's faster kernel under the name of one of our ops
 * (src/ops/), replacing the reference kernel for that backend only.
 * GLANCE_DISABLE_KERNELS=name[,name...] (or "all") keeps the reference kernel for
 * those names: the bench measures what each fast kernel buys this way.
 */
import * as tf from '@tensorflow/tfjs';
import type { OpKernel } from '../ops/registry.js';

/** Whether the fast kernel `name` is switched off by GLANCE_DISABLE_KERNELS. */
export function kernelDisabled(name: string): boolean {
  const list = (process.env.GLANCE_DISABLE_KERNELS ?? '').split(',').map((s) => s.trim());
  return list.includes('all') || list.includes(name);
}

export function registerFast(backendName: string, kernelName: string, kernel: OpKernel): void {
  if (kernelDisabled(kernelName)) return;
  if (tf.getKernel(kernelName, backendName)) tf.unregisterKernel(kernelName, backendName);
  tf.registerKernel({ kernelName, backendName, kernelFunc: kernel as unknown as tf.KernelFunc });
}
