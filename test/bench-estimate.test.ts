import { describe, expect, it } from 'vitest';
import { estimatePreset, type Estimate, type EstimateRates } from '../bench/estimate.js';

// Round rates so the expected seconds can be worked out by hand.
const rates: EstimateRates = {
  train: { NormalNet: 60_000, AdvNet: 30_000, GlanceAgain: 6_000 },
  eval: {
    NormalNet: { clean: 100_000, fgsm: 50_000 },
    GlanceAgain: { clean: 10_000, fgsm: 5_000, 'eot-fgsm-10': 1_000 },
  },
};

describe('paper preset estimate', () => {
  it('sums the real job grid: training, then clean / transfer / white-box / EOT evaluation (unpacked, as on wasm)', () => {
    const e = estimatePreset(rates, 1, 1, 'wasm') as Estimate;
    expect(e.packs).toEqual([1, 1, 1, 1, 1]);
    // 5 seeds x 15 epochs x 60,000 images at each model's rate
    expect(e.trainSeconds).toBeCloseTo(5 * 15 * (1 + 2 + 10), 6);
    // Per seed, over 10,000 images. A one-step job covers both eps units: one gradient
    // (1/attack - 1/clean of the source), then one classification per unit on the target.
    //   NormalNet, AdvNet (NormalNet's rates): transfer and white-box FGSM, source NormalNet
    //   GlanceAgain: transfer from NormalNet, white-box FGSM, white-box EOT
    const gradient = (attack: number, clean: number) => 1 / attack - 1 / clean;
    const perSeed =
      2 * 2 * (gradient(50e3, 100e3) + 2 / 100e3) +
      (gradient(50e3, 100e3) + 2 / 10e3) + (gradient(5e3, 10e3) + 2 / 10e3) + (gradient(1e3, 10e3) + 2 / 10e3) +
      (1 / 100e3 + 1 / 100e3 + 1 / 10e3);
    expect(e.evalSeconds).toBeCloseTo(5 * 10_000 * perSeed, 6);
    expect(e.wallSeconds).toBeCloseTo(e.trainSeconds + e.evalSeconds, 6);
  });

  it('divides by workers x efficiency, never below the longest dependency chain', () => {
    const one = estimatePreset(rates, 1, 1, 'wasm') as Estimate;
    const two = estimatePreset(rates, 2, 0.8, 'wasm') as Estimate;
    expect(two.wallSeconds).toBeCloseTo(Math.max((one.trainSeconds + one.evalSeconds) / 1.6, two.criticalPathSeconds), 6);
    // NormalNet's training (15 s) precedes GlanceAgain's (150 s) and its evaluations
    expect(one.criticalPathSeconds).toBeGreaterThan(15 + 150);
    // With many workers one seed's chain (NormalNet, then a slow GlanceAgain) is the bound
    const slowGlance = estimatePreset({ ...rates, train: { ...rates.train, GlanceAgain: 60 } }, 10, 1, 'wasm') as Estimate;
    expect(slowGlance.wallSeconds).toBe(slowGlance.criticalPathSeconds);
    expect(slowGlance.criticalPathSeconds).toBeGreaterThan(15 * 60_000 / 60);
  });

  it('names the rates it lacks instead of guessing', () => {
    const e = estimatePreset({ train: rates.train, eval: { NormalNet: rates.eval.NormalNet } }, 2, 1, 'wasm');
    expect('missing' in e && e.missing).toEqual(expect.arrayContaining(['clean on GlanceAgain', 'eot-fgsm-10 on GlanceAgain']));
    expect((e as Estimate).wallSeconds).toBeUndefined();
  });

  it('on node trains the packs --pack auto makes, each at the packed rate of its size', () => {
    // Packed rates in replicate-samples/s: a pack of 3 NormalNets trains 3 x 60,000 images per epoch in 2 s.
    const packed = { NormalNet: { 3: 90_000, 2: 80_000 }, AdvNet: { 3: 45_000, 2: 40_000 }, GlanceAgain: { 3: 9_000, 2: 8_000 } };
    const node = estimatePreset({ ...rates, packed }, 2, 1, 'node') as Estimate;
    const wasm = estimatePreset({ ...rates, packed }, 2, 1, 'wasm') as Estimate;
    // 5 seeds on 2 workers: ceil(5/2) = 3, so seeds 1-3 and 4-5 per model
    expect(node.packs).toEqual([3, 2]);
    expect(node.jobs).toBe(wasm.jobs - 3 * 3);
    const pack = (seeds: number, rate: number) => (15 * 60_000 * seeds) / rate;
    expect(node.trainSeconds).toBeCloseTo(
      pack(3, 90e3) + pack(2, 80e3) + pack(3, 45e3) + pack(2, 40e3) + pack(3, 9e3) + pack(2, 8e3), 6);
    expect(node.fallbacks).toEqual([]);
    // Packing changes the training only; the evaluation jobs are the same
    expect(node.evalSeconds).toBeCloseTo(wasm.evalSeconds, 6);
    expect(wasm.trainSeconds).toBeCloseTo(5 * 15 * (1 + 2 + 10), 6);
    // The pack of 3 seeds' chain: NormalNet's pack, then GlanceAgain's, then an evaluation
    expect(node.criticalPathSeconds).toBeGreaterThan(pack(3, 90e3) + pack(3, 9e3));

    // A pack size without a measured rate is costed at the one-seed rate, and said so
    const partial = estimatePreset({ ...rates, packed: { ...packed, GlanceAgain: { 3: 9_000 } } }, 2, 1, 'node') as Estimate;
    expect(partial.fallbacks).toEqual(['GlanceAgain, 2 seeds']);
    expect(partial.trainSeconds - node.trainSeconds).toBeCloseTo(pack(2, 6e3) - pack(2, 8e3), 6);
    // On as many workers as seeds, node trains one seed per job: the one-seed rates, as on wasm
    const wide = estimatePreset({ ...rates, packed }, 5, 1, 'node') as Estimate;
    expect(wide.packs).toEqual([1, 1, 1, 1, 1]);
    expect(wide.trainSeconds).toBeCloseTo(wasm.trainSeconds, 6);
  });
});
