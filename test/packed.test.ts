/**
 * Replicate packing must not change a replicate: R seeds trained as one batched
 * computation give each seed the weights and accuracy it gets trained alone,
 * within float tolerance (summation order only; see the weight check for what
 * Adam does with float noise).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { installWasmMatMulFix } from '../src/backend/wasm-matmul.js';
import { resolveDataset } from '../src/data/registry.js';
import { loadShared, splitView, type SplitView } from '../src/data/shared.js';
import { initWeights, type NetSpec } from '../src/models/net.js';
import { trainPacked } from '../src/models/packed.js';
import { DEFAULT_TRAIN, trainNet } from '../src/models/train.js';

let view: SplitView;
beforeAll(async () => {
  view = splitView(loadShared(resolveDataset({ dataset: 'mnist' })), 'train');
  await tf.setBackend('wasm');
  installWasmMatMulFix();
});

const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

const cases: Array<[NetSpec, number]> = [
  [{ model: 'NormalNet' }, 640],
  [{ model: 'AdvNet' }, 640],
  [{ model: 'GlanceAgain', baseLayer: 'frozen' }, 192],
];

describe('replicate packing', () => {
  for (const [spec, limit] of cases) {
    it(`${spec.model}: 3 packed seeds = each seed trained alone`, () => {
      const seeds = [1, 2, 7];
      const cfg = { ...DEFAULT_TRAIN, epochs: 2, limit };
      const steps = cfg.epochs * Math.ceil(limit / cfg.batchSize);
      const init = (s: number) => initWeights(spec, s, initWeights({ model: 'NormalNet' }, s));
      const before = tf.memory().numTensors;
      const packed = trainPacked(spec, seeds.map(init), view, cfg, seeds);
      expect(tf.memory().numTensors).toBe(before);
      seeds.forEach((seed, k) => {
        const alone = trainNet(spec, init(seed), view, cfg, seed);
        for (const [name, w] of Object.entries(alone.weights)) {
          const p = packed[k].weights[name].data;
          expect(packed[k].weights[name].shape).toEqual(w.shape);
          // Float noise, which Adam can amplify: a weight whose gradient is at noise
          // level in both runs (a decoder unit barely alive for a few samples) takes
          // steps of up to ~lr in either. So: nearly every element within 2e-5, and
          // none further apart than 2 lr per step. A replicate given another's data,
          // draws or initialisation differs in most elements, by far more.
          const far = p.reduce((c, v, i) => c + (Math.abs(v - w.data[i]) > 2e-5 ? 1 : 0), 0);
          expect(far).toBeLessThanOrEqual(Math.ceil(0.001 * p.length));
          expect(maxDiff(p, w.data)).toBeLessThan(2 * cfg.lr * steps);
        }
        alone.history.forEach((h, e) => {
          expect(packed[k].history[e].loss).toBeCloseTo(h.loss, 3);
          expect(Math.abs(packed[k].history[e].accuracy - h.accuracy)).toBeLessThanOrEqual(100 / limit + 1e-9);
        });
      });
      // Different seeds really are different replicates.
      expect(maxDiff(packed[0].weights['out.kernel'].data, packed[1].weights['out.kernel'].data)).toBeGreaterThan(1e-3);
    });
  }
});
