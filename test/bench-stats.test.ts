import { describe, expect, it } from 'vitest';
import { batchesFor, efficiency, median, poolThroughput, quantile, ratio, summarize } from '../bench/stats.js';

describe('bench statistics', () => {
  it('median: middle value, mean of the two middle ones, order-independent', () => {
    expect(median([3])).toBe(3);
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBeCloseTo(2.5, 12);
    expect(median([10, 1, 1000, 2, 3])).toBe(3); // robust to one outlier
  });

  it('quantile interpolates between order statistics (type 7) and rejects bad input', () => {
    expect(quantile([1, 2, 3, 4, 5], 0)).toBe(1);
    expect(quantile([1, 2, 3, 4, 5], 1)).toBe(5);
    expect(quantile([1, 2, 3, 4], 0.25)).toBeCloseTo(1.75, 12);
    expect(() => quantile([], 0.5)).toThrow(RangeError);
    expect(() => quantile([1], 1.5)).toThrow(/q must be in/);
  });

  it('quantile does not reorder its input', () => {
    const xs = [3, 1, 2];
    quantile(xs, 0.5);
    expect(xs).toEqual([3, 1, 2]);
  });

  it('summarize: n, median, min, max and relative spread', () => {
    const s = summarize([90, 110, 100]);
    expect(s).toMatchObject({ n: 3, median: 100, min: 90, max: 110 });
    expect(s.spread).toBeCloseTo(0.2, 12);
    expect(summarize([7]).spread).toBe(0);
  });

  it('ratio is undefined when a side is missing or the denominator is not positive', () => {
    expect(ratio(3, 4)).toBeCloseTo(0.75, 12);
    expect(ratio(undefined, 4)).toBeUndefined();
    expect(ratio(3, undefined)).toBeUndefined();
    expect(ratio(3, 0)).toBeUndefined();
  });

  it('efficiency: N-worker throughput over N times the one-worker throughput', () => {
    expect(efficiency(180, 2, 100)).toBeCloseTo(0.9, 12);
    expect(efficiency(100, 1, 100)).toBe(1);
    expect(() => efficiency(1, 0, 1)).toThrow(RangeError);
    expect(() => efficiency(1, 2, 0)).toThrow(RangeError);
  });

  it('poolThroughput: all images over the span from the first start to the last end', () => {
    // two workers, 1000 images each; together from t=0 to t=2000 ms
    expect(poolThroughput(2000, [{ start: 0, end: 1500 }, { start: 100, end: 2000 }])).toBeCloseTo(1000, 9);
    expect(() => poolThroughput(1, [])).toThrow(RangeError);
  });

  it('batchesFor: batches lasting about the target seconds, clamped', () => {
    expect(batchesFor(6400, 1, 64, 4, 100)).toBe(100);
    expect(batchesFor(6400, 0.5, 64, 4, 1000)).toBe(50);
    expect(batchesFor(10, 1, 64, 4, 100)).toBe(4);
    expect(batchesFor(Number.NaN, 1, 64, 2, 100)).toBe(2);
  });
});
