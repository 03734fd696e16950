/**
 * The WASM backend's Sum over leading axes (a bias gradient: [n, out] -> [out]) first
 * transposes its input so the reduced axes are innermost, and the transpose costs
 * more than the sum. This re-registers wasm's Sum kernel once, globally: a float32
 * sum over leading axes runs our row-sum kernel (kernels.wat), which does tfjs's
 * additions in its order (bit-identical); any other sum goes to the original kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { heapOffset, heapOutputInfo, wasmKernels } from './kernels.js';

interface TensorInfo {
  dataId: object;
  shape: number[];
  dtype: string;
}
type KernelFn = (args: { inputs: { x: TensorInfo }; backend: unknown; attrs: { axis: number | number[]; keepDims: boolean } }) => TensorInfo;

let installed = false;

/** Installs the fix (once per thread). */
export function installWasmSumFix(): void {
  if (installed) return;
  const original = tf.getKernel('Sum', 'wasm');
  if (!original) return;
  const sum = original.kernelFunc as unknown as KernelFn;
  tf.unregisterKernel('Sum', 'wasm');
  tf.registerKernel({
    ...original,
    kernelFunc: ((args: Parameters<KernelFn>[0]) => {
      const { x } = args.inputs;
      const rank = x.shape.length;
      const axes = tf.util.parseAxisParam(args.attrs.axis, x.shape).sort((a, b) => a - b);
      const leading = axes.length > 0 && axes.length < rank && axes.every((a, i) => a === i);
      if (x.dtype !== 'float32' || !leading) return sum(args);
      const rows = x.shape.slice(0, axes.length).reduce((a, b) => a * b, 1);
      const rest = x.shape.slice(axes.length);
      const shape = args.attrs.keepDims ? [...axes.map(() => 1), ...rest] : rest;
      const out = heapOutputInfo(shape, 'float32');
      wasmKernels().sumRows(heapOffset(x), heapOffset(out), rows, rest.reduce((a, b) => a * b, 1));
      return out;
    }) as unknown as tf.KernelFunc,
  });
  installed = true;
}
