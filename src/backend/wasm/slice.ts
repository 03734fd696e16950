/**
 * The WASM backend's Slice kernel copies its WHOLE input out of the wasm heap
 * (readSync) before it copies the slice, and SplitV and Unpack call it once per
 * output, so unstacking a sequence into its steps costs steps times the input.
 * An LSTM does this every step. This re-registers the three kernels once, globally, with a
 * slice that reads the input through a view of the heap and copies only the
 * slice's contiguous runs. Same values (tested against the cpu backend).
 */
import * as tf from '@tensorflow/tfjs';

interface TensorInfo {
  dataId: object;
  shape: number[];
  dtype: string;
}
interface WasmBackend {
  makeOutput(shape: number[], dtype: string): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
}
type KernelFn = (args: { inputs: Record<string, TensorInfo>; backend: unknown; attrs?: Record<string, unknown> }) => TensorInfo | TensorInfo[];

const KERNELS = ['Slice', 'SplitV', 'Unpack'] as const;
let installed = false;

/** Copies x[begin : begin + size] into a new output; begin and size already resolved (no -1). */
function sliceOf(backend: WasmBackend, x: TensorInfo, begin: number[], size: number[]): TensorInfo {
  // The output first: allocating may grow the heap, which detaches earlier views of it.
  const out = backend.makeOutput(size, x.dtype);
  const total = size.reduce((a, b) => a * b, 1);
  if (total === 0) return out;
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  const rank = x.shape.length;
  const strides = new Array<number>(rank);
  for (let d = rank - 1, s = 1; d >= 0; d--) {
    strides[d] = s;
    s *= x.shape[d];
  }
  // Trailing dims taken whole join the contiguous run, as does the first partial one.
  let j = rank - 1;
  let run = 1;
  while (j >= 0 && size[j] === x.shape[j]) run *= size[j--];
  let base = 0;
  if (j >= 0) {
    run *= size[j];
    base = begin[j] * strides[j];
  }
  const outerDims = Math.max(j, 0);
  const idx = new Array<number>(outerDims).fill(0);
  const outer = total / run;
  for (let k = 0, o = 0; k < outer; k++, o += run) {
    let off = base;
    for (let d = 0; d < outerDims; d++) off += (begin[d] + idx[d]) * strides[d];
    dst.set(src.subarray(off, off + run), o);
    for (let d = outerDims - 1; d >= 0; d--) {
      if (++idx[d] < size[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

const numeric = (x: TensorInfo) => x.dtype !== 'string';

/** Installs the three kernels (once per thread); strings keep the stock kernels. */
export function installWasmSliceFix(): void {
  if (installed) return;
  const stock = Object.fromEntries(KERNELS.map((k) => [k, tf.getKernel(k, 'wasm')]));
  if (KERNELS.some((k) => !stock[k])) return;
  installed = true;
  const call = (k: (typeof KERNELS)[number], args: Parameters<KernelFn>[0]) => (stock[k]!.kernelFunc as unknown as KernelFn)(args);

  const slice: KernelFn = (args) => {
    const x = args.inputs.x;
    if (!numeric(x)) return call('Slice', args);
    const { begin, size } = args.attrs as { begin: number | number[]; size: number | number[] };
    const [b, s] = tf.slice_util.parseSliceParams(x as unknown as tf.TensorInfo, begin, size);
    return sliceOf(args.backend as WasmBackend, x, b, s);
  };
  const splitV: KernelFn = (args) => {
    const x = args.inputs.x;
    if (!numeric(x)) return call('SplitV', args);
    const { numOrSizeSplits, axis } = args.attrs as { numOrSizeSplits: number | number[]; axis: number };
    const ax = tf.util.parseAxisParam(axis, x.shape)[0];
    const sizes = tf.backend_util.prepareSplitSize(x as unknown as tf.Tensor, numOrSizeSplits, ax);
    const begin = x.shape.map(() => 0);
    return sizes.map((s) => {
      const size = [...x.shape];
      size[ax] = s;
      const part = sliceOf(args.backend as WasmBackend, x, [...begin], size);
      begin[ax] += s;
      return part;
    });
  };
  const unpack: KernelFn = (args) => {
    const x = args.inputs.value;
    if (!numeric(x)) return call('Unpack', args);
    const axis = tf.util.parseAxisParam((args.attrs as { axis: number }).axis, x.shape)[0];
    const outShape = x.shape.filter((_, d) => d !== axis);
    const size = [...x.shape];
    size[axis] = 1;
    return Array.from({ length: x.shape[axis] }, (_, i) => {
      const begin = x.shape.map(() => 0);
      begin[axis] = i;
      const part = sliceOf(args.backend as WasmBackend, x, begin, size);
      return { ...part, shape: outShape };
    });
  };
  const replacements: Record<(typeof KERNELS)[number], KernelFn> = { Slice: slice, SplitV: splitV, Unpack: unpack };
  for (const k of KERNELS) {
    tf.unregisterKernel(k, 'wasm');
    tf.registerKernel({ ...stock[k]!, kernelFunc: replacements[k] as unknown as tf.KernelFunc });
  }
}
