/**
 * Adam (Kingma & Ba 2015) with PyTorch's and tfjs's defaults and epsilon placement,
 * over tfjs variables. The moments are kept as one flat vector over all weights, and
 * a step is one GlanceAdamUpdate kernel (src/ops/adam-update.ts) over the weights
 * and gradients joined into that vector: an elementwise update computes the same
 * numbers either way, and a step costs a few kernel calls instead of a dozen per
 * weight, which is what a step of a small model costs on tfjs-node.
 * The bias corrections are folded into the step size and epsilon:
 *   m^/(sqrt(v^) + eps) = m * sqrt(1-b2^t)/(1-b1^t) / (sqrt(v) + eps * sqrt(1-b2^t)),
 * the same update as tfjs's up to float rounding.
 */
import * as tf from '@tensorflow/tfjs';
import { ADAM_UPDATE } from '../ops/adam-update.js';
import { runKernel } from '../ops/registry.js';

export class Adam {
  /** First and second moments, flat, in the order of the variables. */
  private m: tf.Tensor1D;
  private v: tf.Tensor1D;
  private readonly sizes: number[];
  private t = 0;

  constructor(
    private readonly vars: tf.Variable[],
    private readonly lr: number,
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.999,
    private readonly epsilon = 1e-8,
  ) {
    this.sizes = vars.map((w) => w.size);
    const total = this.sizes.reduce((a, b) => a + b, 0);
    this.m = tf.zeros([total]);
    this.v = tf.zeros([total]);
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
    // Vectors need no reshape (on tfjs-node every reshape is a kernel call).
    const flat = (ts: tf.Tensor[]) => tf.concat(ts.map((t) => (t.rank === 1 ? t : tf.reshape(t, [-1]))));
    const [w, m, v] = tf.tidy(() => runKernel(ADAM_UPDATE, { w: flat(this.vars), g: flat(grads), m: this.m, v: this.v }, attrs));
    tf.tidy(() =>
      tf.split(w, this.sizes).forEach((part, k) => {
        const variable = this.vars[k];
        variable.assign(variable.rank === 1 ? part : tf.reshape(part, variable.shape));
      }),
    );
    tf.dispose([w, this.m, this.v, ...grads]);
    // Kept: the caller's tidy (a training step) must not dispose the optimiser's state.
    this.m = tf.keep(m) as tf.Tensor1D;
    this.v = tf.keep(v) as tf.Tensor1D;
  }

  dispose(): void {
    tf.dispose([this.m, this.v]);
  }
}
