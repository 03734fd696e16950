/**
 * Adam (Kingma & Ba 2015; PyTorch's and tfjs's defaults and epsilon placement). On
 * the node backend over ALL trainable weights as one flat vector: tfjs's
 * AdamOptimizer runs 14 kernels per weight tensor per step and at batch 64 a step
 * costs per kernel there (bench/results.md), so the gradients are concatenated once
 * and the update is ~12 kernels for the model. Elementwise, so it is also each
 * packed replicate's own update (packed.ts).
 *
 * The bias corrections are folded into the step size and epsilon:
 *   m^/(sqrt(v^) + eps) = m * sqrt(1-b2^t)/(1-b1^t) / (sqrt(v) + eps * sqrt(1-b2^t)),
 * the same update as tfjs's up to float rounding.
 */
import * as tf from '@tensorflow/tfjs';
import { onNativeBackend } from '../backend/load.js';

export class Adam {
  /** First and second moments: one flat vector each (flat), or one tensor per weight. */
  private m: tf.Tensor[];
  private v: tf.Tensor[];
  private t = 0;
  private readonly sizes: number[];
  private readonly flat: boolean;
  /** beta1, 1 - beta1, beta2, 1 - beta2 as tensors, made once: a JS number operand is a new scalar tensor per op. */
  private readonly constants: tf.Scalar[];

  constructor(
    private readonly vars: tf.Variable[],
    private readonly lr: number,
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.999,
    private readonly epsilon = 1e-8,
    /** One flat update (default on node) or one per weight (default elsewhere); the same steps either way. */
    flat = onNativeBackend(),
  ) {
    this.sizes = vars.map((v) => v.size);
    // Flat on native TensorFlow, where kernels cost per call; on wasm the concat and
    // split copies cost more than the calls they save (measured: a GlanceAgain-sized
    // step 13.4 ms flat vs 7.2 ms with tf.train.adam), so there it goes per weight.
    this.flat = flat;
    const shapes = this.flat ? [[this.sizes.reduce((a, b) => a + b, 0)]] : vars.map((v) => v.shape);
    this.m = shapes.map((s) => tf.zeros(s));
    this.v = shapes.map((s) => tf.zeros(s));
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
    const correction1 = 1 - this.beta1 ** this.t;
    const root2 = Math.sqrt(1 - this.beta2 ** this.t);
    const [b1, c1, b2, c2] = this.constants;
    const update = (g: tf.Tensor, m: tf.Tensor, v: tf.Tensor) => {
      const m2 = tf.add(tf.mul(m, b1), tf.mul(g, c1));
      const v2 = tf.add(tf.mul(v, b2), tf.mul(tf.square(g), c2));
      const step = tf.mul(tf.div(m2, tf.add(tf.sqrt(v2), this.epsilon * root2)), (this.lr * root2) / correction1);
      // Kept: the caller's tidy (a training step) must not dispose the optimiser's state.
      return { m: tf.keep(m2), v: tf.keep(v2), step };
    };
    const next = tf.tidy(() => {
      if (this.flat) {
        // A reshape is a kernel call on node: none for weights that are vectors already.
        const g = tf.concat(grads.map((gw) => (gw.rank === 1 ? gw : tf.reshape(gw, [-1]))));
        const u = update(g, this.m[0], this.v[0]);
        const parts = tf.split(u.step, this.sizes);
        this.vars.forEach((w, k) => w.assign(tf.sub(w, w.rank === 1 ? parts[k] : tf.reshape(parts[k], w.shape))));
        return [[u.m], [u.v]];
      }
      const us = this.vars.map((w, k) => update(grads[k], this.m[k], this.v[k]));
      this.vars.forEach((w, k) => w.assign(tf.sub(w, us[k].step)));
      return [us.map((u) => u.m), us.map((u) => u.v)];
    });
    tf.dispose([...this.m, ...this.v, ...grads]);
    [this.m, this.v] = next;
  }

  dispose(): void {
    tf.dispose([...this.m, ...this.v, ...this.constants]);
  }
}
