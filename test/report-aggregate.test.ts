import { describe, expect, it } from 'vitest';
import { aggregate, ShardOverlapError, sumShards } from '../src/report/aggregate.js';
import { result } from './report-fixtures.js';

describe('sumShards', () => {
  it('adds the counts of the shards of one seed exactly', () => {
    const shards = [
      result({ start: 600, end: 1000, correct: 380, total: 400 }),
      result({ start: 0, end: 600, correct: 590, total: 600 }),
    ];
    const [s] = sumShards(shards);
    expect(s).toMatchObject({ seed: 1, correct: 970, total: 1000, shards: 2 });
    // 970 / 1000, not the mean of 95% and 98.33%.
    expect(s.accuracy).toBeCloseTo(97, 12);
  });

  it('counts a duplicated shard once, keeping the first line', () => {
    const shards = [
      result({ start: 0, end: 500, correct: 490, total: 500 }),
      result({ start: 500, end: 1000, correct: 480, total: 500 }),
      result({ start: 0, end: 500, correct: 490, total: 500, seconds: 9 }),
    ];
    const [s] = sumShards(shards);
    expect(s).toMatchObject({ correct: 970, total: 1000, shards: 2 });
  });

  it('keeps the two attack gradients of one slice apart, stable first', () => {
    const wb = { threat: 'white-box', attack: 'fgsm', source: 'NormalNet', eps: 0.3 } as const;
    const groups = aggregate([result({ ...wb, gradient: 'float32', correct: 60 }), result({ ...wb, gradient: 'stable', correct: 5 })]);
    expect(groups.map((g) => [g.gradient, g.mean])).toEqual([['stable', 0.5], ['float32', 6]]);
  });

  it('throws on overlapping shards of different ranges', () => {
    const shards = [
      result({ start: 0, end: 500, correct: 490, total: 500 }),
      result({ start: 400, end: 1000, correct: 580, total: 600 }),
    ];
    expect(() => sumShards(shards)).toThrow(ShardOverlapError);
    expect(() => sumShards(shards)).toThrow(/\[0, 500\) and \[400, 1000\)/);
  });

  it('keeps seeds, eps, sources and splits apart; adjacent shards do not overlap', () => {
    const lines = [
      result({ seed: 1, start: 0, end: 500, total: 500, correct: 400 }),
      result({ seed: 1, start: 500, end: 1000, total: 500, correct: 450 }),
      result({ seed: 2, start: 0, end: 1000, correct: 900 }),
      result({ seed: 1, threat: 'transfer', attack: 'fgsm', source: 'NormalNet', eps: 0.3, correct: 100 }),
      result({ seed: 1, threat: 'transfer', attack: 'fgsm', source: 'AdvNet', eps: 0.3, correct: 200 }),
      result({ seed: 1, split: 'train', correct: 980 }),
    ];
    const out = sumShards(lines);
    expect(out.map((s) => s.correct)).toEqual([850, 900, 100, 200, 980]);
  });

  it('sums target hits and records distinct backends', () => {
    const lines = [
      result({ attack: 'fgsm-targeted', threat: 'white-box', start: 0, end: 500, total: 500, correct: 10, targetHits: 300 }),
      result({
        attack: 'fgsm-targeted', threat: 'white-box', start: 500, end: 1000, total: 500, correct: 20, targetHits: 250,
        backend: { name: 'wasm', tfjs: '4.22.0' },
      }),
    ];
    const [s] = sumShards(lines);
    expect(s.targetHits).toBe(550);
    expect(s.backends.map((b) => b.name)).toEqual(['node', 'wasm']);
  });
});

describe('aggregate', () => {
  it('summarises seeds per group with hand-computed statistics', () => {
    const lines = [
      // Seed 2 arrives in two shards: 485 + 486 = 971 of 1000.
      result({ seed: 2, start: 0, end: 500, total: 500, correct: 485 }),
      result({ seed: 1, correct: 969 }),
      result({ seed: 3, correct: 975 }),
      result({ seed: 2, start: 500, end: 1000, total: 500, correct: 486 }),
    ];
    const [g] = aggregate(lines);
    // Accuracies 96.9, 97.1, 97.5: mean 97.1666.., deviations -0.2667, -0.0667, 0.3333,
    // sum of squares 0.186667, sd = sqrt(0.093333) = 0.305505; CI = 4.302653 * 0.305505 / sqrt(3) = 0.758916.
    expect(g.n).toBe(3);
    expect(g.mean).toBeCloseTo(97.166667, 5);
    expect(g.sd).toBeCloseTo(0.305505, 5);
    expect(g.ci95).toBeCloseTo(0.758916, 5);
    expect(g.min).toBeCloseTo(96.9, 12);
    expect(g.max).toBeCloseTo(97.5, 12);
    expect(g.perSeed.map((v) => [v.seed, v.total])).toEqual([[1, 1000], [2, 1000], [3, 1000]]);
  });

  it('gives target-hit rates for targeted attacks', () => {
    const lines = [
      result({ seed: 1, threat: 'white-box', attack: 'fgsm-targeted', eps: 0.3, correct: 50, targetHits: 400 }),
      result({ seed: 2, threat: 'white-box', attack: 'fgsm-targeted', eps: 0.3, correct: 70, targetHits: 600 }),
    ];
    const [g] = aggregate(lines);
    expect(g.mean).toBeCloseTo(6, 12);
    expect(g.targetHitRate?.mean).toBeCloseTo(50, 12);
    expect(g.targetHitRate?.sd).toBeCloseTo(Math.sqrt(200), 12);
  });

  it('sorts groups deterministically: threat, attack, source, model, eps', () => {
    const lines = [
      result({ model: 'GlanceAgain', threat: 'white-box', attack: 'fgsm', eps: 0.3 }),
      result({ model: 'AdvNet', threat: 'white-box', attack: 'fgsm', eps: 0.1 }),
      result({ model: 'GlanceAgain', threat: 'clean' }),
      result({ model: 'AdvNet', threat: 'white-box', attack: 'fgsm', eps: 0.05 }),
      result({ model: 'NormalNet', threat: 'transfer', attack: 'fgsm', source: 'NormalNet', eps: 0.3 }),
      result({ model: 'NormalNet', threat: 'clean' }),
    ];
    const order = aggregate(lines).map((g) => `${g.threat} ${g.model} ${g.eps}`);
    expect(order).toEqual([
      'clean NormalNet 0',
      'clean GlanceAgain 0',
      'transfer NormalNet 0.3',
      'white-box AdvNet 0.05',
      'white-box AdvNet 0.1',
      'white-box GlanceAgain 0.3',
    ]);
    expect(aggregate([...lines].reverse())).toEqual(aggregate(lines));
  });

  it('a single seed has NaN sd and CI', () => {
    const [g] = aggregate([result({ correct: 971 })]);
    expect(g.n).toBe(1);
    expect(g.mean).toBeCloseTo(97.1, 12);
    expect(g.sd).toBeNaN();
    expect(g.ci95).toBeNaN();
  });
});
