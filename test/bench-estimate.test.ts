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
  it('sums the real job grid: one training job per model and seed, then clean / transfer / white-box / EOT evaluation', () => {
    const e = estimatePreset(rates, 1, 1) as Estimate;
    // Per seed: NormalNet, an AdvNet per eps reading and GlanceAgain trained; clean, transfer and
    // white-box FGSM on each, white-box EOT on GlanceAgain (the preset's measured attacks, one numerics).
    expect(e.jobs).toBe(5 * 4 + 5 * (3 + 3 + 3 + 4));
    // 5 seeds x 15 epochs x 60,000 images at each model's rate
    expect(e.trainSeconds).toBeCloseTo(5 * 15 * (1 + 2 * 2 + 10), 6);
    // Per seed, over 10,000 images. A one-step job covers both eps units: one gradient
    // (1/attack - 1/clean of the source), then one classification per unit on the target.
    //   NormalNet: transfer and white-box FGSM in both units
    //   each AdvNet (NormalNet's rates): transfer and white-box FGSM in its own reading's units only
    //   GlanceAgain: transfer from NormalNet, white-box FGSM, white-box EOT
    const gradient = (attack: number, clean: number) => 1 / attack - 1 / clean;
    const perSeed =
      2 * (gradient(50e3, 100e3) + 2 / 100e3) +
      2 * 2 * (gradient(50e3, 100e3) + 1 / 100e3) +
      (gradient(50e3, 100e3) + 2 / 10e3) + (gradient(5e3, 10e3) + 2 / 10e3) + (gradient(1e3, 10e3) + 2 / 10e3) +
      (1 / 100e3 + 2 / 100e3 + 1 / 10e3);
    expect(e.evalSeconds).toBeCloseTo(5 * 10_000 * perSeed, 6);
    expect(e.wallSeconds).toBeCloseTo(e.trainSeconds + e.evalSeconds, 6);
  });

  it('divides by workers x efficiency, never below the longest dependency chain', () => {
    const one = estimatePreset(rates, 1, 1) as Estimate;
    const two = estimatePreset(rates, 2, 0.8) as Estimate;
    expect(two.wallSeconds).toBeCloseTo(Math.max((one.trainSeconds + one.evalSeconds) / 1.6, two.criticalPathSeconds), 6);
    // NormalNet's training (15 s) precedes GlanceAgain's (150 s) and its evaluations
    expect(one.criticalPathSeconds).toBeGreaterThan(15 + 150);
    // With many workers one seed's chain (NormalNet, then a slow GlanceAgain) is the bound
    const slowGlance = estimatePreset({ ...rates, train: { ...rates.train, GlanceAgain: 60 } }, 10, 1) as Estimate;
    expect(slowGlance.wallSeconds).toBe(slowGlance.criticalPathSeconds);
    expect(slowGlance.criticalPathSeconds).toBeGreaterThan(15 * 60_000 / 60);
  });

  it('names the rates it lacks instead of guessing', () => {
    const e = estimatePreset({ train: rates.train, eval: { NormalNet: rates.eval.NormalNet } }, 2, 1);
    expect('missing' in e && e.missing).toEqual(expect.arrayContaining(['clean on GlanceAgain', 'eot-fgsm-10 on GlanceAgain']));
    expect((e as Estimate).wallSeconds).toBeUndefined();
  });

  it('trainingOnly: the training jobs alone, without evaluation rates', () => {
    const e = estimatePreset({ train: rates.train, eval: {} }, 1, 1, { trainingOnly: true }) as Estimate;
    // 5 seeds x (NormalNet, an AdvNet per eps reading, GlanceAgain)
    expect(e.jobs).toBe(20);
    expect(e.evalSeconds).toBe(0);
    expect(e.trainSeconds).toBeCloseTo(5 * 15 * (1 + 2 * 2 + 10), 6);
    expect(e.wallSeconds).toBeCloseTo(e.trainSeconds, 6);
    // On 5 workers one seed's chain is NormalNet, then GlanceAgain
    expect((estimatePreset(rates, 5, 1, { trainingOnly: true }) as Estimate).criticalPathSeconds).toBeCloseTo(15 + 150, 6);
  });
});
