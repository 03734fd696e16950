/**
 * Adam (Kingma & Ba 2015) with PyTorch's and tfjs's defaults and epsilon placement,
 * over tfjs variables, one GlanceAdamUpdate kernel per weight (src/ops/adam-update.ts).
 * The bias corrections are folded into the step size and epsilon:
 *   m^/(sqrt(v^) + eps) = m * sqrt(1-b2^t)/(1-b1^t) / (sqrt(v) + eps * sqrt(1-b2^t)),
 * the same update as tfjs's up to float rounding.
 */
import * as tf from '@tensorflow/tfjs';
import { ADAM_UPDATE } from '../ops/adam-update.js';
import { runKernel } from '../ops/registry.js';

export class Adam {
  private m: tf.Tensor[];
  private v: tf.Tensor[];
  private t = 0;

  constructor(
    private readonly vars: tf.Variable[],
    private readonly lr: number,
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.999,
    private readonly epsilon = 1e-8,
  ) {
    this.m = vars.map((w) => tf.zerosLike(w));
    this.v = vars.map((w) => tf.zerosLike(w));
  }

  /** Computes f and its gradient w.r.t. the variables, applies one Adam step, and returns f's value. */
  minimize(f: () => tf.Scalar): tf.Scalar {
    const { value, grads } = tf.variableGrads(f, this.vars);
    this.step(this.vars.map((w) => grads[w.name]));
    return value;
  }

  /** One Adam step from the gradients of the variables, in the constructor's order; disposes them. */
  step(grads: tf.Tensor[]): void {
    this.t++;
    const root2 = Math.sqrt(1 - this.beta2 ** this.t);
    const epsT = this.epsilon * root2;
    const lrT = (this.lr * root2) / (1 - this.beta1 ** this.t);
    const attrs = { beta1: this.beta1, beta2: this.beta2, epsT, lrT };
    const next = this.vars.map((w, k) => runKernel(ADAM_UPDATE, { w, g: grads[k], m: this.m[k], v: this.v[k] }, attrs));
    next.forEach(([w], k) => {
      this.vars[k].assign(w);
      w.dispose();
    });
    tf.dispose([...this.m, ...this.v, ...grads]);
    // Kept: the caller's tidy (a training step) must not dispose the optimiser's state.
    this.m = next.map(([, m]) => tf.keep(m));
    this.v = next.map(([, , v]) => tf.keep(v));
  }

  dispose(): void {
    tf.dispose([...this.m, ...this.v]);
  }
}
