/**
 * Model against model on the same test images. Two models evaluated on one
 * test set are not independent samples: most images are easy for both. McNemar's
 * test looks only at the discordant images (one model right, the other wrong),
 * and the paired mean difference over seeds removes what a seed shares between
 * the two models (the same NormalNet base, the same transfer images).
 */
import { summarize, type Summary } from './stats.js';
import { logGamma } from './student-t.js';

/** Below this many discordant pairs the chi-square approximation is poor: the exact binomial test is used. */
export const MCNEMAR_EXACT_BELOW = 25;

export interface McNemar {
  /** Images model A classifies correctly and model B does not. */
  onlyA: number;
  /** Images model B classifies correctly and model A does not. */
  onlyB: number;
  /** Two-sided p-value of "A and B are equally accurate on these images". */
  p: number;
  method: 'exact' | 'chi-square';
}

/** erfc(x), Numerical Recipes' Chebyshev fit (relative error < 1.2e-7): enough for a p-value. */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? r : 2 - r;
}

/** P(X <= k) for X ~ Binomial(n, 1/2), summed in log space (n may be in the thousands). */
export function binomialHalfCdf(k: number, n: number): number {
  let s = 0;
  for (let i = 0; i <= k; i++) s += Math.exp(logGamma(n + 1) - logGamma(i + 1) - logGamma(n - i + 1) - n * Math.LN2);
  return Math.min(1, s);
}

/**
 * McNemar's test from the discordant counts: exact binomial (two-sided,
 * doubled smaller tail) when onlyA + onlyB < MCNEMAR_EXACT_BELOW, else the
 * chi-square statistic with continuity correction (|b - c| - 1)^2 / (b + c), df 1.
 */
export function mcnemarFromCounts(onlyA: number, onlyB: number): McNemar {
  const n = onlyA + onlyB;
  if (n === 0) return { onlyA, onlyB, p: 1, method: 'exact' };
  if (n < MCNEMAR_EXACT_BELOW) {
    return { onlyA, onlyB, p: Math.min(1, 2 * binomialHalfCdf(Math.min(onlyA, onlyB), n)), method: 'exact' };
  }
  const stat = (Math.max(0, Math.abs(onlyA - onlyB) - 1) ** 2) / n;
  // chi-square with df 1 is the square of a standard normal: P(chi2 > s) = erfc(sqrt(s / 2)).
  return { onlyA, onlyB, p: erfc(Math.sqrt(stat / 2)), method: 'chi-square' };
}

/** McNemar's test of two models' per-example correctness on the same images (1 = correct). */
export function mcnemar(a: Uint8Array, b: Uint8Array): McNemar {
  if (a.length !== b.length) {
    throw new Error(`McNemar needs the same images for both models: ${a.length} against ${b.length} examples`);
  }
  let onlyA = 0;
  let onlyB = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] && !b[i]) onlyA++;
    else if (b[i] && !a[i]) onlyB++;
  }
  return mcnemarFromCounts(onlyA, onlyB);
}

/** A seed's value of each of two models. */
export interface PairedValue {
  seed: number;
  a: number;
  b: number;
}

/**
 * The paired difference A - B over the seeds both have: the summary (mean, sd,
 * Student-t 95% CI) of the per-seed differences. Seeds only one model has are left out.
 */
export function pairedDifference(a: ReadonlyArray<{ seed: number; accuracy: number }>, b: ReadonlyArray<{ seed: number; accuracy: number }>): Summary & { pairs: PairedValue[] } {
  const bySeed = new Map(b.map((v) => [v.seed, v.accuracy]));
  const pairs = a.filter((v) => bySeed.has(v.seed)).map((v) => ({ seed: v.seed, a: v.accuracy, b: bySeed.get(v.seed)! }));
  return { ...summarize(pairs.map((p) => p.a - p.b)), pairs };
}
