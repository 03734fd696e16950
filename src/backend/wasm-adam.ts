/**
 * Adam on the WASM backend as one SIMD kernel per weight (src/backend/wasm-kernels.wat)
 * that reads and writes the tensors in tfjs's own heap: the module imports the
 * memory of tfjs's WebAssembly instance. tfjs's ops cost ~13 elementwise kernels
 * per weight per step, each a pass over memory (2.5-3 ms of a ~47 ms GlanceAgain
 * step at batch 64). The kernel does the same float32 operations in the same
 * order, so it takes bit-identical steps (test/wasm-adam.test.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { WASM_KERNELS_BASE64 } from './wasm-kernels.generated.js';

interface WasmBackend {
  wasm: { asm: { memory: WebAssembly.Memory } };
  getMemoryOffset(dataId: object): number;
  makeOutput(shape: number[], dtype: 'float32'): { dataId: object; shape: number[]; dtype: 'float32' };
  refCount(dataId: object): number;
}

type AdamKernel = (
  w: number, out: number, m: number, v: number, g: number, n: number,
  b1: number, c1: number, b2: number, c2: number, eps: number, lr: number,
) => void;

let kernel: { memory: WebAssembly.Memory; adam: AdamKernel } | undefined;

/** The kernel, instantiated once per thread on the active wasm backend's memory. */
function adamKernel(backend: WasmBackend): AdamKernel {
  const memory = backend.wasm.asm.memory;
  if (kernel?.memory !== memory) {
    const module = new WebAssembly.Module(Buffer.from(WASM_KERNELS_BASE64, 'base64'));
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    kernel = { memory, adam: instance.exports.adam as unknown as AdamKernel };
  }
  return kernel.adam;
}

/**
 * One Adam step of weight w with gradient g: updates the moments m and v in place
 * (they must be the optimiser's own, unshared tensors) and returns the new weight
 * as a new tensor. lrT and epsT are the bias-corrected step size and epsilon.
 */
export function wasmAdamStep(
  w: tf.Tensor, g: tf.Tensor, m: tf.Tensor, v: tf.Tensor,
  beta1: number, beta2: number, epsT: number, lrT: number,
): tf.Tensor {
  const backend = tf.backend() as unknown as WasmBackend;
  for (const t of [m, v]) {
    if (backend.refCount(t.dataId) !== 1) throw new Error('wasmAdamStep: the moments must not be shared (they are updated in place)');
  }
  const adam = adamKernel(backend);
  const out = backend.makeOutput([...w.shape], 'float32');
  const at = (t: { dataId: object }) => backend.getMemoryOffset(t.dataId);
  adam(at(w), at(out), at(m), at(v), at(g), w.size, beta1, 1 - beta1, beta2, 1 - beta2, epsT, lrT);
  return tf.engine().makeTensorFromTensorInfo(out);
}
