/**
 * Model weights as plain data (name -> shape + Float32Array), the form that
 * crosses module boundaries, goes into checkpoints and seeds other models (the
 * frozen base layer of GlanceAgain). Initialisation is drawn in JavaScript from
 * the seeded Rng, so it is identical on every backend.
 */
import { Rng } from './rng.js';

export interface Weight {
  shape: number[];
  data: Float32Array;
}
export type WeightSet = Record<string, Weight>;

export const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** U(-bound, bound), as PyTorch initialises Linear (bound 1/sqrt(fan_in)) and LSTM (1/sqrt(hidden)) layers. */
export function uniform(rng: Rng, shape: number[], bound: number): Weight {
  const data = new Float32Array(size(shape));
  for (let i = 0; i < data.length; i++) data[i] = rng.uniform(-bound, bound);
  return { shape, data };
}

/** A dense layer [fanIn, fanOut] + bias, PyTorch's default init. */
export function denseInit(rng: Rng, name: string, fanIn: number, fanOut: number): WeightSet {
  const bound = 1 / Math.sqrt(fanIn);
  return { [`${name}.kernel`]: uniform(rng, [fanIn, fanOut], bound), [`${name}.bias`]: uniform(rng, [fanOut], bound) };
}

export function cloneWeights(w: WeightSet): WeightSet {
  const out: WeightSet = {};
  for (const [k, v] of Object.entries(w)) out[k] = { shape: [...v.shape], data: v.data.slice() };
  return out;
}
