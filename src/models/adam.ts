/**
 * Adam (Kingma & Ba 2015; PyTorch's and tfjs's defaults and epsilon placement) over
 * ALL trainable weights as one flat vector. tfjs's AdamOptimizer runs 14 kernels per
 * weight tensor per step; at batch 64 a step costs per kernel (bench/results.md), so
 * the gradients are concatenated once and the update is ~12 kernels for the model.
 * Elementwise, so it is also each packed replicate's own update (packed.ts).
 *
 * The bias corrections are folded into the step size and epsilon:
 *   m^/(sqrt(v^) + eps) = m * sqrt(1-b2^t)/(1-b1^t) / (sqrt(v) + eps * sqrt(1-b2^t)),
 * the same update as tfjs's up to float rounding.
 */
import * as tf from '@tensorflow/tfjs';

export class Adam {
  private m: tf.Tensor1D;
  private v: tf.Tensor1D;
  private t = 0;
  private readonly sizes: number[];

  constructor(
    private readonly vars: tf.Variable[],
    private readonly lr: number,
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.999,
    private readonly epsilon = 1e-8,
  ) {
    this.sizes = vars.map((v) => v.size);
    const total = this.sizes.reduce((a, b) => a + b, 0);
    this.m = tf.zeros([total]);
    this.v = tf.zeros([total]);
  }

  /** Computes f and its gradient w.r.t. the weights, applies one Adam step, and returns f's value. */
  minimize(f: () => tf.Scalar): tf.Scalar {
    const { value, grads } = tf.variableGrads(f, this.vars);
    this.t++;
    const correction1 = 1 - this.beta1 ** this.t;
    const root2 = Math.sqrt(1 - this.beta2 ** this.t);
    const [m, v] = tf.tidy(() => {
      const g = tf.concat(this.vars.map((w) => tf.reshape(grads[w.name], [-1])));
      const m = tf.add(tf.mul(this.m, this.beta1), tf.mul(g, 1 - this.beta1)) as tf.Tensor1D;
      const v = tf.add(tf.mul(this.v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2)) as tf.Tensor1D;
      const step = tf.mul(tf.div(m, tf.add(tf.sqrt(v), this.epsilon * root2)), (this.lr * root2) / correction1);
      const parts = tf.split(step, this.sizes);
      this.vars.forEach((w, k) => w.assign(tf.sub(w, tf.reshape(parts[k], w.shape))));
      // Kept: the caller's tidy (a training step) must not dispose the optimiser's state.
      return [tf.keep(m), tf.keep(v)];
    });
    tf.dispose([this.m, this.v, ...Object.values(grads)]);
    this.m = m;
    this.v = v;
    return value;
  }

  dispose(): void {
    tf.dispose([this.m, this.v]);
  }
}
