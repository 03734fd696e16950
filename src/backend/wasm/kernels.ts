/**
 * Our own WebAssembly kernels (kernels.wat, SIMD) for the tfjs WASM backend,
 * instantiated once per thread on the memory of tfjs's WebAssembly instance, so they
 * read and write tensors in place in tfjs's heap: no copies in or out.
 */
import * as tf from '@tensorflow/tfjs';
import { WASM_KERNELS_BASE64 } from './kernels.generated.js';

interface TensorInfo {
  dataId: object;
  shape: number[];
  dtype: 'float32' | 'int32';
}

interface WasmBackend {
  wasm: { asm: { memory: WebAssembly.Memory } };
  getMemoryOffset(dataId: object): number;
  makeOutput(shape: number[], dtype: 'float32' | 'int32'): TensorInfo;
}

/** The exports of kernels.wat; pointers are byte offsets in tfjs's heap. */
export interface WasmKernels {
  adam(w: number, out: number, m: number, v: number, g: number, n: number, mOut: number, vOut: number,
    b1: number, c1: number, b2: number, c2: number, eps: number, lr: number): void;
  lstmForward(gates: number, cprev: number, acts: number, c: number, tau: number, h: number, n: number, units: number): void;
  lstmBackward(dout: number, dhnext: number, dcnext: number, acts: number, tau: number, cprev: number,
    dz: number, dcprev: number, n: number, units: number): void;
  /** x [batch, rows, cols] -> out [batch, cols, rows], 4-byte elements. */
  transpose2d(x: number, out: number, batch: number, rows: number, cols: number): void;
  /** x [rows, cols] -> out [cols], the sum of the rows. */
  sumRows(x: number, out: number, rows: number, cols: number): void;
}

let instance: { memory: WebAssembly.Memory; kernels: WasmKernels } | undefined;

const wasmBackend = () => tf.backend() as unknown as WasmBackend;

/** The kernels on the active wasm backend's memory. */
export function wasmKernels(): WasmKernels {
  const memory = wasmBackend().wasm.asm.memory;
  if (instance?.memory !== memory) {
    const module = new WebAssembly.Module(Buffer.from(WASM_KERNELS_BASE64, 'base64'));
    const exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
    instance = { memory, kernels: exports as unknown as WasmKernels };
  }
  return instance.kernels;
}

/** A tensor's byte offset in tfjs's heap. */
export const heapOffset = (t: { dataId: object }): number => wasmBackend().getMemoryOffset(t.dataId);

/** A kernel output (uninitialised) allocated in tfjs's heap, as tfjs kernels return it. */
export const heapOutputInfo = (shape: number[], dtype: 'float32' | 'int32'): TensorInfo => wasmBackend().makeOutput(shape, dtype);

/** Tensors of the given shapes (float32, uninitialised), allocated in tfjs's heap, for a kernel to fill. */
export function heapOutputs(...shapes: number[][]): tf.Tensor[] {
  return shapes.map((s) => tf.engine().makeTensorFromTensorInfo(heapOutputInfo(s, 'float32')));
}

