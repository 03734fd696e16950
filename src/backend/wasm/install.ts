/**
 * Everything the WASM backend gets from us, installed once per thread after it
 * loads: fixes of three stock kernels (BatchMatMul, Slice/SplitV/Unpack, Sum) and
 * SIMD kernels for our ops (GlanceAdamUpdate, GlanceLstm/GlanceLstmGrad). Each can
 * be switched off by name with GLANCE_DISABLE_KERNELS (src/backend/register.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { ADAM_UPDATE, adamUpdateReference, type AdamAttrs } from '../../ops/adam-update.js';
import { kernelDisabled, registerFast } from '../register.js';
import { heapOffset, heapOutputInfo, wasmKernels } from './kernels.js';
import { registerWasmLstm } from './lstm.js';
import { installWasmMatMulFix } from './matmul.js';
import { installWasmSliceFix } from './slice.js';
import { installWasmSumFix } from './sum.js';

let installed = false;

export function installWasmKernels(): void {
  if (installed) return;
  installed = true;
  if (!kernelDisabled('BatchMatMul')) installWasmMatMulFix();
  if (!kernelDisabled('Slice')) installWasmSliceFix();
  if (!kernelDisabled('Sum')) installWasmSumFix();
  // One pass over memory per weight instead of a dozen elementwise kernels.
  registerFast('wasm', ADAM_UPDATE, ({ inputs, attrs }) => {
    const { w, g, m, v } = inputs;
    const a = attrs as unknown as AdamAttrs;
    if ([w, g, m, v].some((t) => t.dtype !== 'float32' || !tf.util.arraysEqual(t.shape, w.shape))) {
      return adamUpdateReference(w as tf.Tensor, g as tf.Tensor, m as tf.Tensor, v as tf.Tensor, a);
    }
    const [out, mOut, vOut] = [0, 1, 2].map(() => heapOutputInfo([...w.shape], 'float32'));
    wasmKernels().adam(heapOffset(w), heapOffset(out), heapOffset(m), heapOffset(v), heapOffset(g), tf.util.sizeFromShape(w.shape),
      heapOffset(mOut), heapOffset(vOut), a.beta1, 1 - a.beta1, a.beta2, 1 - a.beta2, a.epsT, a.lrT);
    return [out, mOut, vOut];
  });
  registerWasmLstm();
}
