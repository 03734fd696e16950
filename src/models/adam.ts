/**
 * Adam (Kingma & Ba 2015; PyTorch's and tfjs's defaults and epsilon placement).
 * Elementwise, so it is also each packed replicate's own update (packed.ts).
 *
 * On the node backend each weight's update is TensorFlow's fused kernel
 * (src/backend/native-adam.ts): one kernel call and one pass over memory per weight,
 * where tfjs ops cost ~12 elementwise kernels. (It replaced a flat update of tfjs ops
 * over all weights concatenated: NormalNet's Adam 0.50 -> 0.16 ms a step.) On wasm
 * it is one SIMD kernel per weight on tfjs's heap (src/backend/wasm-adam.ts), the
 * same float32 operations as the tfjs ops it replaces, which the cpu backend runs.
 *
 * The bias corrections are folded into the step size and epsilon:
 *   m^/(sqrt(v^) + eps) = m * sqrt(1-b2^t)/(1-b1^t) / (sqrt(v) + eps * sqrt(1-b2^t)),
 * the same update as tfjs's up to float rounding.
 */
import * as tf from '@tensorflow/tfjs';
import { onNativeBackend, onWasmBackend } from '../backend/load.js';
import { NativeAdamState } from '../backend/native-adam.js';
import { wasmAdamStep } from '../backend/wasm-adam.js';

/**
 * How the update runs: TensorFlow's fused kernel (default on node), our SIMD kernel
 * on tfjs's heap (default on wasm), or tfjs ops per weight (cpu).
 */
export type AdamMode = 'fused' | 'simd' | 'ops';

const defaultMode = (): AdamMode => (onNativeBackend() ? 'fused' : onWasmBackend() ? 'simd' : 'ops');

export class Adam {
  /** tfjs ops: first and second moments, one tensor per weight. */
  private m: tf.Tensor[] = [];
  private v: tf.Tensor[] = [];
  /** tfjs ops: beta1, 1 - beta1, beta2, 1 - beta2, made once (a JS number operand is a new scalar tensor per op). */
  private readonly constants: tf.Scalar[] = [];
  private readonly fused?: NativeAdamState;
  /** Fused: each weight's data as the last step wrote it; a weight assigned by someone else since is re-read. */
  private readonly written: unknown[] = [];
  private t = 0;

  constructor(
    private readonly vars: tf.Variable[],
    private readonly lr: number,
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.999,
    private readonly epsilon = 1e-8,
    private readonly mode: AdamMode = defaultMode(),
  ) {
    if (this.mode === 'fused') {
      this.fused = new NativeAdamState(vars, lr, beta1, beta2);
      this.written = vars.map((w) => w.dataId);
      return;
    }
    this.m = vars.map((w) => tf.zerosLike(w));
    this.v = vars.map((w) => tf.zerosLike(w));
    this.constants = [beta1, 1 - beta1, beta2, 1 - beta2].map((c) => tf.scalar(c));
  }

  /** Computes f and its gradient w.r.t. the weights, applies one Adam step, and returns f's value. */
  minimize(f: () => tf.Scalar): tf.Scalar {
    const { value, grads } = tf.variableGrads(f, this.vars);
    this.step(this.vars.map((w) => grads[w.name]));
    return value;
  }

  /** One Adam step from the gradients of the weights, in the order of the weights given to the constructor; disposes them. */
  step(grads: tf.Tensor[]): void {
    this.t++;
    if (this.fused) this.fusedStep(this.fused, grads);
    else if (this.mode === 'simd') this.simdStep(grads);
    else this.opsStep(grads);
    tf.dispose(grads);
  }

  private fusedStep(fused: NativeAdamState, grads: tf.Tensor[]): void {
    this.vars.forEach((w, k) => {
      if (w.dataId !== this.written[k]) fused.reset(k, w);
    });
    const next = fused.step(grads, this.t, this.epsilon);
    this.vars.forEach((w, k) => {
      w.assign(next[k]);
      this.written[k] = w.dataId;
    });
    tf.dispose(next);
  }

  /** The bias-corrected epsilon and step size of step t. */
  private corrected(): { epsT: number; lrT: number } {
    const correction1 = 1 - this.beta1 ** this.t;
    const root2 = Math.sqrt(1 - this.beta2 ** this.t);
    return { epsT: this.epsilon * root2, lrT: (this.lr * root2) / correction1 };
  }

  private simdStep(grads: tf.Tensor[]): void {
    const { epsT, lrT } = this.corrected();
    this.vars.forEach((w, k) => {
      const next = wasmAdamStep(w, grads[k], this.m[k], this.v[k], this.beta1, this.beta2, epsT, lrT);
      w.assign(next);
      next.dispose();
    });
  }

  private opsStep(grads: tf.Tensor[]): void {
    const { epsT, lrT } = this.corrected();
    const [b1, c1, b2, c2] = this.constants;
    const next = tf.tidy(() =>
      this.vars.map((w, k) => {
        const g = grads[k];
        const m = tf.add(tf.mul(this.m[k], b1), tf.mul(g, c1));
        const v = tf.add(tf.mul(this.v[k], b2), tf.mul(tf.square(g), c2));
        const step = tf.mul(tf.div(m, tf.add(tf.sqrt(v), epsT)), lrT);
        w.assign(tf.sub(w, step));
        // Kept: the caller's tidy (a training step) must not dispose the optimiser's state.
        return [tf.keep(m), tf.keep(v)];
      }),
    );
    tf.dispose([...this.m, ...this.v]);
    this.m = next.map(([m]) => m);
    this.v = next.map(([, v]) => v);
  }

  dispose(): void {
    this.fused?.dispose();
    tf.dispose([...this.m, ...this.v, ...this.constants]);
  }
}
