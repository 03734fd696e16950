/**
 * Adam's elementwise update of one weight as a named kernel, 'GlanceAdamUpdate':
 *   {w, g, m, v}, attrs {beta1, beta2, epsT, lrT} -> [w', m', v'] with
 *   m' = m*b1 + g*(1-b1);  v' = v*b2 + g^2*(1-b2);  w' = w - (m' / (sqrt(v') + epsT)) * lrT,
 * epsT and lrT carrying the bias corrections of the step (src/training/adam.ts).
 * The reference kernel is these tfjs ops; wasm registers one SIMD pass that does the
 * same float32 operations in the same order (src/backend/wasm).
 */
import * as tf from '@tensorflow/tfjs';
import { asTensor, registerReference } from './registry.js';

export const ADAM_UPDATE = 'GlanceAdamUpdate';

export interface AdamAttrs {
  beta1: number;
  beta2: number;
  epsT: number;
  lrT: number;
}

/** Scalars made once per backend and value: a JS number operand would upload a new scalar tensor per op. */
const scalars = new Map<string, tf.Scalar>();
function scalar(c: number): tf.Scalar {
  const key = `${tf.getBackend()}:${c}`;
  let s = scalars.get(key);
  if (!s) scalars.set(key, (s = tf.keep(tf.scalar(c))));
  return s;
}

export function adamUpdateReference(w: tf.Tensor, g: tf.Tensor, m: tf.Tensor, v: tf.Tensor, a: AdamAttrs): tf.Tensor[] {
  return tf.tidy(() => {
    const m2 = tf.add(tf.mul(m, scalar(a.beta1)), tf.mul(g, scalar(1 - a.beta1)));
    const v2 = tf.add(tf.mul(v, scalar(a.beta2)), tf.mul(tf.square(g), scalar(1 - a.beta2)));
    return [tf.sub(w, tf.mul(tf.div(m2, tf.add(tf.sqrt(v2), a.epsT)), a.lrT)), m2, v2];
  });
}

registerReference(ADAM_UPDATE, ({ inputs: s, attrs }) =>
  adamUpdateReference(asTensor(s.w), asTensor(s.g), asTensor(s.m), asTensor(s.v), attrs as unknown as AdamAttrs),
);
