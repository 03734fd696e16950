/**
 * Pure statistics of the bench: medians and spreads of repeated timings, ratios
 * and parallel efficiency. No timing, no I/O; each function has its test in
 * test/bench-stats.test.ts.
 */

/** The q-quantile (0 <= q <= 1) by linear interpolation between order statistics (type 7, R's default). */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) throw new RangeError('quantile: no values');
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile: q must be in [0, 1], got ${q}`);
  const sorted = [...values].sort((a, b) => a - b);
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
}

export const median = (values: readonly number[]): number => quantile(values, 0.5);

export interface Summary {
  n: number;
  median: number;
  min: number;
  max: number;
  /** Relative spread: (max - min) / median, 0 for one value. */
  spread: number;
}

export function summarize(values: readonly number[]): Summary {
  const med = median(values);
  const min = Math.min(...values);
  const max = Math.max(...values);
  return { n: values.length, median: med, min, max, spread: med === 0 ? 0 : (max - min) / med };
}

/** a / b, or undefined when either is missing or b is not positive. */
export function ratio(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined || b === undefined || !(b > 0) || !Number.isFinite(a)) return undefined;
  return a / b;
}

/** Parallel efficiency: throughput with n workers over n times the throughput with one. */
export function efficiency(throughputN: number, workers: number, throughput1: number): number {
  if (!(workers >= 1)) throw new RangeError(`efficiency: workers must be >= 1, got ${workers}`);
  if (!(throughput1 > 0)) throw new RangeError(`efficiency: one-worker throughput must be > 0, got ${throughput1}`);
  return throughputN / (workers * throughput1);
}

/** Images per second of a pool: all images over the span from the first start to the last end (ms). */
export function poolThroughput(images: number, spans: ReadonlyArray<{ start: number; end: number }>): number {
  if (spans.length === 0) throw new RangeError('poolThroughput: no spans');
  const start = Math.min(...spans.map((s) => s.start));
  const end = Math.max(...spans.map((s) => s.end));
  if (!(end > start)) throw new RangeError('poolThroughput: empty span');
  return images / ((end - start) / 1000);
}

/** The number of batches that takes about `seconds` at `rate` items/s, within [min, max]. */
export function batchesFor(rate: number, seconds: number, batchSize: number, min: number, max: number): number {
  const want = Number.isFinite(rate) && rate > 0 ? Math.round((rate * seconds) / batchSize) : min;
  return Math.max(min, Math.min(max, want));
}
