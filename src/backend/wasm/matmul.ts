/**
 * The WASM backend's transposed matmuls run an order of magnitude slower than plain
 * ones (XNNPACK's fast path needs row-major operands; ../shared/DESIGN.md, "Facts about
 * the WASM backend"), and every backward pass of a dense layer uses them. This
 * re-registers wasm's BatchMatMul kernel once, globally: it materialises a
 * transposed operand (our tiled transpose kernel, kernels.wat), then calls the
 * original kernel with plain operands. Same numbers (tested against the cpu backend).
 */
import * as tf from '@tensorflow/tfjs';
import { heapOffset, heapOutputInfo, wasmKernels } from './kernels.js';

interface TensorInfo {
  dataId: object;
  shape: number[];
  dtype: string;
}
interface DisposingBackend {
  disposeData(dataId: object): boolean;
}
type KernelFn = (args: { inputs: Record<string, TensorInfo>; backend: unknown; attrs?: Record<string, unknown> }) => TensorInfo;

let installed = false;

/** Installs the fix (once per thread). */
export function installWasmMatMulFix(): void {
  if (installed) return;
  const original = tf.getKernel('BatchMatMul', 'wasm');
  const transpose = tf.getKernel('Transpose', 'wasm');
  if (!original || !transpose) return;
  const matmul = original.kernelFunc as unknown as KernelFn;
  const transposeFn = transpose.kernelFunc as unknown as KernelFn;
  const swapLast = (x: TensorInfo, backend: unknown): TensorInfo => {
    if (x.dtype === 'float32' || x.dtype === 'int32') {
      // Our tiled transpose (kernels.wat): wasm's Transpose kernel is a generic N-d loop.
      const [rows, cols] = x.shape.slice(-2);
      const out = heapOutputInfo([...x.shape.slice(0, -2), cols, rows], x.dtype);
      wasmKernels().transpose2d(heapOffset(x), heapOffset(out), x.shape.slice(0, -2).reduce((a, b) => a * b, 1), rows, cols);
      return out;
    }
    const perm = x.shape.map((_, i) => i);
    const r = perm.length;
    [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
    return transposeFn({ inputs: { x }, backend, attrs: { perm } });
  };
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel({
    ...original,
    kernelFunc: ((args: Parameters<KernelFn>[0]) => {
      const { a, b } = args.inputs;
      const { transposeA, transposeB } = (args.attrs ?? {}) as { transposeA?: boolean; transposeB?: boolean };
      if (!transposeA && !transposeB) return matmul(args);
      const temps: TensorInfo[] = [];
      const aa = transposeA ? (temps.push(swapLast(a, args.backend)), temps[temps.length - 1]) : a;
      const bb = transposeB ? (temps.push(swapLast(b, args.backend)), temps[temps.length - 1]) : b;
      try {
        return matmul({ ...args, inputs: { ...args.inputs, a: aa, b: bb }, attrs: { ...args.attrs, transposeA: false, transposeB: false } });
      } finally {
        for (const t of temps) (args.backend as DisposingBackend).disposeData(t.dataId);
      }
    }) as unknown as tf.KernelFunc,
  });
  installed = true;
}
