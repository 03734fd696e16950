import { describe, expect, it } from 'vitest';
import { ci95HalfWidth, max, mean, min, sampleSd, summarize } from '../src/report/stats.js';
import { incompleteBeta, logGamma, studentTCdf, studentTQuantile } from '../src/report/student-t.js';

describe('Student-t', () => {
  it('logGamma matches factorials and Gamma(1/2) = sqrt(pi)', () => {
    expect(logGamma(1)).toBeCloseTo(0, 12);
    expect(logGamma(5)).toBeCloseTo(Math.log(24), 12);
    expect(logGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 12);
    expect(logGamma(0.25)).toBeCloseTo(Math.log(3.6256099082219083), 10);
  });

  it('incompleteBeta matches closed forms', () => {
    // I_x(1, 1) = x; I_x(a, 1) = x^a; I_x(1, b) = 1 - (1 - x)^b.
    expect(incompleteBeta(0.3, 1, 1)).toBeCloseTo(0.3, 12);
    expect(incompleteBeta(0.4, 3, 1)).toBeCloseTo(0.064, 12);
    expect(incompleteBeta(0.2, 1, 4)).toBeCloseTo(1 - 0.8 ** 4, 12);
    expect(incompleteBeta(0, 2, 3)).toBe(0);
    expect(incompleteBeta(1, 2, 3)).toBe(1);
  });

  it('CDF matches closed forms for df 1 (Cauchy) and df 2', () => {
    for (const t of [-3, -0.5, 0, 0.7, 2, 10]) {
      expect(studentTCdf(t, 1)).toBeCloseTo(0.5 + Math.atan(t) / Math.PI, 12);
      expect(studentTCdf(t, 2)).toBeCloseTo(0.5 + t / (2 * Math.sqrt(2 + t * t)), 12);
    }
  });

  it('0.975 quantiles match the printed t table', () => {
    const table: Array<[number, number]> = [
      [1, 12.706],
      [2, 4.303],
      [3, 3.182],
      [4, 2.776],
      [9, 2.262],
      [29, 2.045],
      [100, 1.984],
    ];
    for (const [df, t] of table) expect(studentTQuantile(0.975, df)).toBeCloseTo(t, 3);
    // Closed form for df 1: tan(pi (p - 1/2)).
    expect(studentTQuantile(0.975, 1)).toBeCloseTo(Math.tan(Math.PI * 0.475), 9);
    // Large df tends to the normal quantile.
    expect(studentTQuantile(0.975, 1e7)).toBeCloseTo(1.959964, 5);
  });

  it('quantile is symmetric and inverts the CDF', () => {
    expect(studentTQuantile(0.5, 5)).toBe(0);
    expect(studentTQuantile(0.025, 4)).toBeCloseTo(-2.776, 3);
    for (const p of [0.6, 0.9, 0.99, 0.9995]) {
      expect(studentTCdf(studentTQuantile(p, 3), 3)).toBeCloseTo(p, 12);
    }
    expect(studentTQuantile(0.975, 0)).toBeNaN();
    expect(studentTQuantile(1.5, 3)).toBeNaN();
  });
});

describe('descriptive statistics', () => {
  const xs = [97.1, 97.5, 96.9, 97.3];

  it('mean, sd, min, max by hand', () => {
    // mean = 388.8 / 4 = 97.2; squared deviations 0.01 + 0.09 + 0.09 + 0.01 = 0.2; sd = sqrt(0.2 / 3).
    expect(mean(xs)).toBeCloseTo(97.2, 12);
    expect(sampleSd(xs)).toBeCloseTo(Math.sqrt(0.2 / 3), 12);
    expect(min(xs)).toBe(96.9);
    expect(max(xs)).toBe(97.5);
  });

  it('95% CI half-width is t_{0.975,n-1} sd / sqrt(n)', () => {
    // 3.182446 * 0.2581989 / 2 = 0.410849
    expect(ci95HalfWidth(xs)).toBeCloseTo(0.410849, 5);
    // n = 2: 12.706205 * sd([1, 3]) / sqrt(2) = 12.706205 * 1.414214 / 1.414214.
    expect(ci95HalfWidth([1, 3])).toBeCloseTo(12.706205, 5);
  });

  it('one value has a mean but no sd or CI; no values have nothing', () => {
    const one = summarize([42]);
    expect(one).toMatchObject({ n: 1, mean: 42, min: 42, max: 42 });
    expect(one.sd).toBeNaN();
    expect(one.ci95).toBeNaN();
    const none = summarize([]);
    expect(none.n).toBe(0);
    expect(none.mean).toBeNaN();
    expect(none.min).toBeNaN();
  });
});
