/**
 * Descriptive statistics over seeds: mean, sample sd, Student-t 95% CI, min, max.
 * Pure functions over plain number arrays. Undefined quantities (the sd of one
 * value, anything of no values) are NaN, and the renderers print NaN as '—':
 * an honest gap instead of a made-up 0.
 */
import { studentTQuantile } from './student-t.js';

/** The summary of one group of per-seed values. */
export interface Summary {
  n: number;
  mean: number;
  /** Sample standard deviation (divisor n - 1); NaN when n < 2. */
  sd: number;
  /** Half-width of the two-sided 95% Student-t interval for the mean; NaN when n < 2. */
  ci95: number;
  min: number;
  max: number;
}

export function mean(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** Sample sd with Bessel's correction: the seeds are a sample of all possible seeds. */
export function sampleSd(xs: readonly number[]): number {
  const n = xs.length;
  if (n < 2) return NaN;
  const m = mean(xs);
  let ss = 0;
  for (const x of xs) ss += (x - m) * (x - m);
  return Math.sqrt(ss / (n - 1));
}

/**
 * Half-width of the 95% confidence interval of the mean: t_{0.975, n-1} * sd / sqrt(n).
 * Student-t rather than the normal 1.96 because n (the number of seeds) is small.
 */
export function ci95HalfWidth(xs: readonly number[]): number {
  const n = xs.length;
  if (n < 2) return NaN;
  return (studentTQuantile(0.975, n - 1) * sampleSd(xs)) / Math.sqrt(n);
}

/**
 * Half-width of the 95% prediction interval for one more run:
 * t_{0.975, n-1} * sd * sqrt(1 + 1/n). The paper reports a single run, so its
 * value is compared with where one run of ours would fall, not with our mean.
 */
export function predictionHalfWidth(xs: readonly number[]): number {
  const n = xs.length;
  if (n < 2) return NaN;
  return studentTQuantile(0.975, n - 1) * sampleSd(xs) * Math.sqrt(1 + 1 / n);
}

// Loops, not Math.min(...xs): a spread passes one argument per value and overflows the stack past ~125,000.
export function min(xs: readonly number[]): number {
  let m = xs.length === 0 ? NaN : Infinity;
  for (const x of xs) m = Math.min(m, x);
  return m;
}

export function max(xs: readonly number[]): number {
  let m = xs.length === 0 ? NaN : -Infinity;
  for (const x of xs) m = Math.max(m, x);
  return m;
}

export function summarize(xs: readonly number[]): Summary {
  return {
    n: xs.length,
    mean: mean(xs),
    sd: sampleSd(xs),
    ci95: ci95HalfWidth(xs),
    min: min(xs),
    max: max(xs),
  };
}
