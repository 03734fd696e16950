import { describe, expect, it } from 'vitest';
import { encodeBits } from '../src/experiments/example-bits.js';
import type { EvalResult } from '../src/experiments/types.js';
import { bitsBySeed, bitsKey, byGradient } from '../src/report/bits.js';
import { worstCases } from '../src/report/ensemble.js';
import { binomialHalfCdf, mcnemar, mcnemarFromCounts, pairedDifference } from '../src/report/paired.js';
import { buildSummary, SUMMARY_VERSION } from '../src/report/summary.js';
import { result } from './report-fixtures.js';

describe('McNemar', () => {
  it('exact binomial below 25 discordant images: 1 against 9 gives p = 2 * 11/1024', () => {
    expect(binomialHalfCdf(1, 10)).toBeCloseTo(11 / 1024, 12);
    const t = mcnemarFromCounts(1, 9);
    expect(t).toMatchObject({ onlyA: 1, onlyB: 9, method: 'exact' });
    expect(t.p).toBeCloseTo(22 / 1024, 12);
    expect(mcnemarFromCounts(0, 0).p).toBe(1);
    expect(mcnemarFromCounts(5, 5).p).toBe(1);
  });

  it('chi-square with continuity correction from 25: 30 against 10 gives (20-1)^2/40 = 9.025, p = 0.0026631', () => {
    const t = mcnemarFromCounts(30, 10);
    expect(t.method).toBe('chi-square');
    expect(t.p).toBeCloseTo(0.002663119, 6);
  });

  it('counts discordant images from per-example correctness', () => {
    const a = Uint8Array.from([1, 1, 1, 0, 0, 1]);
    const b = Uint8Array.from([1, 0, 0, 1, 0, 1]);
    expect(mcnemar(a, b)).toMatchObject({ onlyA: 2, onlyB: 1, method: 'exact' });
    expect(() => mcnemar(a, b.subarray(1))).toThrow(/same images/);
  });
});

describe('paired difference', () => {
  it('is the summary of per-seed differences: 10, 7, 7 -> mean 8, CI +-4.303 * sqrt(3) / sqrt(3)', () => {
    const a = [{ seed: 1, accuracy: 90 }, { seed: 2, accuracy: 92 }, { seed: 3, accuracy: 94 }, { seed: 4, accuracy: 50 }];
    const b = [{ seed: 1, accuracy: 80 }, { seed: 2, accuracy: 85 }, { seed: 3, accuracy: 87 }];
    const d = pairedDifference(a, b);
    expect(d.n).toBe(3);
    expect(d.mean).toBeCloseTo(8, 12);
    expect(d.sd).toBeCloseTo(Math.sqrt(3), 12);
    expect(d.ci95).toBeCloseTo(4.302653, 5);
  });
});

const bits = (xs: number[]) => encodeBits(xs);
const wb = (model: EvalResult['model'], attack: EvalResult['attack'], seed: number, correct: number[], over: Partial<EvalResult> = {}) =>
  result({ model, threat: 'white-box', attack, source: model, eps: 0.3, seed, start: 0, end: correct.length, total: correct.length,
    correct: correct.reduce((s, x) => s + x, 0), correctBits: bits(correct), gradient: 'stable', ...over });
const clean = (model: EvalResult['model'], seed: number, correct: number[]) =>
  result({ model, seed, start: 0, end: correct.length, total: correct.length, correct: correct.reduce((s, x) => s + x, 0), correctBits: bits(correct) });

describe('per-example bits', () => {
  it('joins shards in order and leaves out evaluations with a gap or without bits', () => {
    const shard = (start: number, xs: number[], over: Partial<EvalResult> = {}) =>
      result({ seed: 1, start, end: start + xs.length, total: xs.length, correct: 0, correctBits: bits(xs), ...over });
    const m = bitsBySeed([shard(3, [0, 1]), shard(0, [1, 1, 0]), shard(0, [1, 1, 0])]);
    const got = m.get(bitsKey(result({}), 1))!;
    expect([got.start, got.end, [...got.bits]]).toEqual([0, 5, [1, 1, 0, 0, 1]]);
    expect(bitsBySeed([shard(0, [1, 1]), shard(3, [1])]).size).toBe(0);
    expect(bitsBySeed([shard(0, [1, 1]), result({ seed: 1, start: 2, end: 3, total: 1 })]).size).toBe(0);
  });

  it('splits results by gradient, clean in every part; older results are float32', () => {
    const parts = byGradient([clean('NormalNet', 1, [1]), wb('NormalNet', 'fgsm', 1, [0]), wb('NormalNet', 'fgsm', 1, [1], { gradient: undefined })]);
    expect(parts.map((p) => [p.gradient, p.results.length])).toEqual([['stable', 2], ['float32', 2]]);
    // Random noise and Square follow no gradient: they belong to every part, like clean accuracy.
    const noise = result({ threat: 'white-box', attack: 'noise', source: 'NormalNet', eps: 0.3 });
    const withNoise = byGradient([noise, wb('NormalNet', 'fgsm', 1, [0]), wb('NormalNet', 'fgsm', 1, [1], { gradient: 'float32' })]);
    expect(withNoise.map((p) => p.results.map((r) => r.attack))).toEqual([['noise', 'fgsm'], ['noise', 'fgsm']]);
  });
});

describe('worst case over the attack ensemble', () => {
  // Seed 1 over 8 images; clean misses image 7; fgsm, pgd and eot-fgsm each miss others.
  const run = [
    clean('GlanceAgain', 1, [1, 1, 1, 1, 1, 1, 1, 0]),
    wb('GlanceAgain', 'fgsm', 1, [1, 0, 1, 1, 1, 1, 0, 1]),
    wb('GlanceAgain', 'eot-fgsm', 1, [1, 1, 0, 1, 1, 0, 1, 0]),
    wb('GlanceAgain', 'pgd', 1, [1, 1, 1, 0, 1, 1, 1, 0]),
    result({ model: 'GlanceAgain', threat: 'transfer', attack: 'fgsm', source: 'NormalNet', eps: 0.3, seed: 1, start: 0, end: 8, total: 8,
      correct: 7, correctBits: bits([1, 1, 1, 1, 0, 1, 1, 1]), gradient: 'stable' }),
  ];

  it('counts an image only if it survives clean and every attack: images 0 only -> 12.5%', () => {
    const [w] = worstCases(run, 'stable');
    expect(w.model).toBe('GlanceAgain');
    expect(w.attacks).toEqual(['transfer fgsm from NormalNet', 'white-box fgsm', 'white-box eot-fgsm', 'white-box pgd']);
    expect(w.perSeed).toEqual([{ seed: 1, correct: 1, total: 8, accuracy: 12.5, start: 0, end: 8 }]);
    // On these 8 images the strongest single attack is eot-fgsm: 5 of 8.
    expect(w.strongest).toEqual({ attack: 'white-box eot-fgsm', mean: 62.5 });
  });

  it('takes the images every attack covers when a costly attack ran on the first ones only', () => {
    // Square on images 0-3 only: the ensemble covers 0-3, where image 0 alone survives everything.
    const square = wb('GlanceAgain', 'square', 1, [1, 0, 1, 1]);
    const [w] = worstCases([...run, square], 'stable');
    expect(w.perSeed).toEqual([{ seed: 1, correct: 1, total: 4, accuracy: 25, start: 0, end: 4 }]);
    // On images 0-3: fgsm 3/4, eot-fgsm 3/4, pgd 3/4, transfer 4/4, square 3/4: the first of the lowest.
    expect(w.strongest).toEqual({ attack: 'white-box fgsm', mean: 75 });
  });

  it('is never above any single attack, per seed, on random bits', () => {
    let state = 7;
    const rand = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const draw = () => Array.from({ length: 64 }, () => (rand() < 0.7 ? 1 : 0));
    const attacks: EvalResult['attack'][] = ['fgsm', 'eot-fgsm', 'pgd', 'eot-pgd', 'noise', 'square'];
    // Square on the first 40 images only, as --attack-limit runs it: compare on the shared images.
    const rs = [1, 2, 3].flatMap((seed) => [clean('GlanceAgain', seed, draw()),
      ...attacks.map((a) => wb('GlanceAgain', a, seed, a === 'square' ? draw().slice(0, 40) : draw()))]);
    const [w] = worstCases(rs, 'stable');
    expect(w.n).toBe(3);
    for (const v of w.perSeed) {
      expect([v.start, v.end]).toEqual([0, 40]);
      for (const r of rs.filter((x) => x.seed === v.seed)) {
        const onShared = [...bitsBySeed([r]).get(bitsKey(r, r.seed))!.bits.subarray(0, 40)].reduce((a, b) => a + b, 0);
        expect(v.correct).toBeLessThanOrEqual(onShared);
      }
    }
    expect(w.mean).toBeLessThanOrEqual(w.strongest.mean);
  });

  it('leaves out seeds without per-example results', () => {
    const old = run.map((r) => ({ ...r, correctBits: undefined }));
    expect(worstCases(old, 'stable')).toEqual([]);
  });
});

describe('summary', () => {
  it('is versioned plain data that survives JSON, with paired comparisons from the bits', () => {
    const run = [
      clean('NormalNet', 1, [1, 1, 1, 1]), clean('GlanceAgain', 1, [1, 1, 1, 1]),
      wb('NormalNet', 'fgsm', 1, [0, 0, 0, 1]), wb('GlanceAgain', 'fgsm', 1, [1, 1, 0, 1]),
    ];
    const s = buildSummary(run);
    expect(s.format).toBe('glance-bench-summary');
    expect(s.version).toBe(SUMMARY_VERSION);
    const iii = s.comparisons.find((c) => c.table === 'III' && c.b === 'NormalNet')!;
    // 2 against 0: p = 2 * P(X <= 0) = 2 / 4.
    expect(iii.mcnemar).toMatchObject([{ seed: 1, onlyA: 2, onlyB: 0, method: 'exact' }]);
    expect(iii.mcnemar[0].p).toBeCloseTo(0.5, 12);
    expect(iii.difference.mean).toBe(50);
    const back = JSON.parse(JSON.stringify(s));
    expect(back.verdicts[0].ci95).toEqual([null, null]);
    expect(back.checks.map((c: { check: string }) => c.check)).toContain('fgsm-masking');
  });
});
