/**
 * `glance compare`: the paired and Welch intervals against values computed by
 * hand, the choice between them, and the command on two small run stores.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareCommand } from '../src/cli/compare.js';
import { RunStore } from '../src/coordinator/store.js';
import { encodeBits } from '../src/experiments/example-bits.js';
import { PRESETS } from '../src/experiments/presets.js';
import type { EvalResult } from '../src/experiments/types.js';
import { compareRuns, pairedInterval, renderComparison, welchInterval } from '../src/report/compare.js';
import { studentTQuantile } from '../src/report/student-t.js';
import { result } from './report-fixtures.js';

const A = [90, 92, 94];
const B = [91, 95, 96];

describe('intervals of a difference B - A', () => {
  it('paired: the t interval of the per-seed differences 1, 3, 2', () => {
    // mean 2, sd 1, t(0.975, 2) = 4.302653, half-width 4.302653 / sqrt(3) = 2.484138
    const p = pairedInterval(A, B);
    expect(p.diff).toBeCloseTo(2, 12);
    expect(p.df).toBe(2);
    expect(p.lo).toBeCloseTo(2 - 2.484138, 5);
    expect(p.hi).toBeCloseTo(2 + 2.484138, 5);
  });

  it('Welch: variances 4 and 7 over 3 seeds each, df 242/65', () => {
    // se = sqrt(4/3 + 7/3) = 1.914854; df = (11/3)^2 / ((4/3)^2/2 + (7/3)^2/2) = 242/65
    const w = welchInterval(A, B);
    expect(w.diff).toBeCloseTo(2, 12);
    expect(w.df).toBeCloseTo(242 / 65, 12);
    const half = studentTQuantile(0.975, 242 / 65) * Math.sqrt(11 / 3);
    expect(half).toBeGreaterThan(2.776 * 1.914854); // t(0.975, 4)
    expect(half).toBeLessThan(3.183 * 1.914854); // t(0.975, 3)
    expect(w.hi - w.lo).toBeCloseTo(2 * half, 10);
    // Ignoring the pairing costs width here: the seeds share most of their variation.
    expect(w.hi - w.lo).toBeGreaterThan(pairedInterval(A, B).hi - pairedInterval(A, B).lo);
  });

  it('no spread: an exact difference; one seed: no interval', () => {
    expect(welchInterval([90, 90], [91, 91])).toMatchObject({ diff: 1, lo: 1, hi: 1 });
    expect(Number.isNaN(welchInterval([90], [91, 92]).lo)).toBe(true);
    expect(Number.isNaN(pairedInterval([90], [91]).lo)).toBe(true);
  });
});

/** Per-seed results of one cell: `accuracies` (%) of 1000 examples, with per-example bits when `bits`. */
function cell(over: Partial<EvalResult>, accuracies: number[], bits: boolean, seeds = [1, 2, 3]): EvalResult[] {
  return accuracies.map((acc, i) => {
    const correct = acc * 10;
    const flags = Array.from({ length: 1000 }, (_, j) => (j < correct ? 1 : 0));
    return result({ ...over, seed: seeds[i], correct, ...(bits ? { correctBits: encodeBits(flags) } : {}) });
  });
}

const transfer = { threat: 'transfer' as const, attack: 'fgsm' as const, source: 'NormalNet' as const, eps: 0.3, gradient: 'stable' as const };

describe('compareRuns', () => {
  it('pairs by seed when both runs have the same seeds and bits of the same examples, else Welch', () => {
    const c = compareRuns(
      [...cell({}, A, true), ...cell(transfer, A, false), ...cell({ model: 'AdvNet', advUnits: 'pixel' }, A, true)],
      [...cell({}, B, true), ...cell(transfer, B, true), ...cell({ model: 'AdvNet', advUnits: 'normalized', epsUnits: 'normalized' }, B, true)],
    );
    // AdvNet trained in other units is another cell.
    expect(c).toMatchObject({ onlyA: 1, onlyB: 1 });
    expect(c.rows.map((r) => [r.threat, r.method])).toEqual([['clean', 'paired'], ['transfer', 'welch']]);
    expect(c.rows[0].lo).toBeCloseTo(pairedInterval(A, B).lo, 12);
    expect(c.rows[1].lo).toBeCloseTo(welchInterval(A, B).lo, 12);
    // Other seeds: unpaired even with bits.
    const other = compareRuns(cell({}, A, true), cell({}, B, true, [4, 5, 6]));
    expect(other.rows[0].method).toBe('welch');
    // One seed each: paired, but no interval.
    const one = compareRuns(cell({}, [90], true, [1]), cell({}, [91], true, [1]));
    expect(one.rows[0]).toMatchObject({ method: 'paired', diff: 1 });
    expect(renderComparison(one, { a: 'a', b: 'b' })).toContain('| +1.0 | — | paired |');
    const md = renderComparison(c, { a: 'run-a', b: 'run-b' });
    expect(md).toContain('| NormalNet | clean | — | 92.0 [3] | 94.0 [3] | +2.0 | -0.5 to +4.5 | paired |');
    expect(md).toContain('1 only in A, 1 only in B');
  });
});

function store(dir: string, results: EvalResult[]): string {
  const s = new RunStore(dir);
  s.open(PRESETS.smoke, false);
  results.forEach((r, i) => s.append({ jobId: `eval/job${i}`, status: 'done', seconds: 1, attempt: 1, results: [r], at: '2026-12-01T00:00:00Z' }));
  return dir;
}

describe('glance compare', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'glance-compare-'));
  const a = store(join(tmp, 'node'), [...cell({}, A, true), ...cell(transfer, A, true)]);
  const b = store(join(tmp, 'wasm'), [...cell({}, B, true), ...cell(transfer, [92, 92, 94], true)]);

  it('writes compare.md and compare.csv for two stores', async () => {
    const out = join(tmp, 'out');
    await compareCommand().parseAsync([a, b, '--out', out], { from: 'user' });
    const md = readFileSync(join(out, 'compare.md'), 'utf8');
    expect(md).toMatch(/^# glance compare: wasm − node/);
    expect(md).toContain('| NormalNet | transfer fgsm from NormalNet (stable gradient) | 0.3 | 92.0 [3] | 92.7 [3] | +0.7 |');
    const csv = readFileSync(join(out, 'compare.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(3);
    expect(csv[1]).toMatch(/^mnist,NormalNet,,clean,none,,,0,pixel,test,1 2 3,92,1 2 3,94,2,-0\.48\d+,4\.48\d+,2,paired$/);
  });

  it('refuses two runs that share no cells, saying what a cell is', async () => {
    const c = store(join(tmp, 'other'), cell({ dataset: 'fashion-mnist' }, A, true));
    await expect(compareCommand().parseAsync([a, c], { from: 'user' })).rejects.toThrow(/share no cells \(2 cells only in A, 1 only in B\)/);
  });
});
