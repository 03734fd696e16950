/**
 * Adam's SIMD kernel on the WASM backend (src/backend/wasm-adam.ts): the assembled
 * bytes are those of the .wat source, and it takes bit-identical steps to Adam's
 * tfjs ops on wasm (same float32 operations, same order), for weights whose sizes
 * exercise both the 4-wide loop and the scalar tail; leaves no tensors; a weight
 * read before a step keeps its values.
 */
import fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without type declarations
import { generate, GENERATED_PATH } from '../scripts/wasm-kernels.mjs';
import { Adam } from '../src/models/adam.js';
import { Rng } from '../src/models/rng.js';

beforeAll(async () => {
  await tf.setBackend('wasm');
});
afterAll(async () => {
  await tf.setBackend('cpu');
});

const random = (rng: Rng, shape: number[]) => tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.uniform(-1, 1)), shape);

describe('wasm Adam kernel', () => {
  it('src/backend/wasm-kernels.generated.ts is wasm-kernels.wat assembled (run `npm run wasm-kernels` if not)', async () => {
    expect(fs.readFileSync(GENERATED_PATH, 'utf8')).toBe(await generate());
  });

  it('takes the same steps as the tfjs ops, bit for bit (7 steps; sizes 4k and 4k+1..3), and leaks nothing', () => {
    const rng = new Rng(11);
    const shapes = [[5, 8], [3], [7, 1, 2], [257]];
    const init = shapes.map((s) => random(rng, s));
    const grads = Array.from({ length: 7 }, () => shapes.map((s) => random(rng, s)));
    const simd = init.map((t) => tf.variable(t.clone()));
    const ops = init.map((t) => tf.variable(t.clone()));
    const a = new Adam(simd, 0.01, 0.9, 0.999, 1e-8, 'simd');
    const b = new Adam(ops, 0.01, 0.9, 0.999, 1e-8, 'ops');
    const before = tf.memory().numTensors;
    for (const g of grads) {
      a.step(g.map((t) => t.clone()));
      b.step(g.map((t) => t.clone()));
    }
    expect(tf.memory().numTensors).toBe(before);
    simd.forEach((w, k) => {
      expect(Array.from(w.dataSync())).toEqual(Array.from(ops[k].dataSync()));
      // Moved (about lr per step, in random directions): not a comparison of untouched weights.
      const moved = Math.max(...Array.from(w.dataSync(), (v, i) => Math.abs(v - init[k].dataSync()[i])));
      expect(moved).toBeGreaterThan(0.01);
    });
    a.dispose();
    b.dispose();
    tf.dispose([...init, ...grads.flat(), ...simd, ...ops]);
  });

  it('a tensor read from the weight before a step keeps its values', () => {
    const w = tf.variable(tf.tensor1d([1, 2, 3, 4, 5]));
    const adam = new Adam([w], 0.1, 0.9, 0.999, 1e-8, 'simd');
    const held = w.clone();
    adam.step([tf.tensor1d([1, -1, 1, -1, 1])]);
    expect(Array.from(held.dataSync())).toEqual([1, 2, 3, 4, 5]);
    Array.from(w.dataSync()).forEach((v, i) => expect(v).toBeCloseTo([0.9, 2.1, 2.9, 4.1, 4.9][i], 5));
    adam.dispose();
    tf.dispose([w, held]);
  });
});
