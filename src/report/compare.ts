/**
 * Two runs cell by cell (`glance compare`): for every cell both measured (the
 * same coordinates: dataset, model and AdvNet's units, threat, attack, source,
 * gradient, eps, eps units, split), the difference B − A of the mean accuracy
 * over seeds with its 95% confidence interval, e.g. node against wasm or
 * bilinear against nearest resampling.
 *
 * The interval is paired when it can be: both runs have the same seeds and
 * per-example results of the same examples for every seed, so seed s
 * of A and seed s of B saw the same data and initial weights and only what the
 * runs set differently changed. Then it is the Student-t interval of the
 * per-seed differences (n − 1 degrees of freedom). Otherwise it is Welch's
 * unpaired interval (Welch–Satterthwaite degrees of freedom). Each row says
 * which; with one seed on a side there is no interval. Pure: no tfjs.
 */
import { writeToString } from 'fast-csv';
import type { EvalResult } from '../experiments/types.js';
import { compareGroups, sumShards, type GroupCoordinates, type SeedResult } from './aggregate.js';
import { DASH, attackLabel, fmt1, fmtEps, fmtSigned1, markdownTable, settingLabel } from './format.js';
import { coordinateKey, pickCoordinates } from './shards.js';
import { ci95HalfWidth, mean, sampleSd } from './stats.js';
import { studentTQuantile } from './student-t.js';

export type CompareMethod = 'paired' | 'welch';

/** One side of a compared cell: its per-seed accuracies (%), sorted by seed. */
export interface CompareSide {
  seeds: number[];
  accuracies: number[];
  mean: number;
}

export interface CompareRow extends GroupCoordinates {
  a: CompareSide;
  b: CompareSide;
  /** Mean of B minus mean of A, in percentage points. */
  diff: number;
  /** The 95% interval of the difference; NaN when it cannot be computed (fewer than two seeds on a side). */
  lo: number;
  hi: number;
  df: number;
  method: CompareMethod;
}

export interface Comparison {
  rows: CompareRow[];
  /** How many cells only one of the runs measured. */
  onlyA: number;
  onlyB: number;
}

/** The per-seed results of each cell, and whether every seed's shards all carry per-example bits (with their slices). */
interface Cell {
  seeds: SeedResult[];
  /** Per seed: its slices with per-example bits ('0-500,500-1000'), undefined when a shard has none. */
  bits: Map<number, string | undefined>;
}

function cells(results: readonly EvalResult[]): Map<string, Cell> {
  const out = new Map<string, Cell>();
  for (const s of sumShards(results)) {
    const key = coordinateKey(s);
    const cell: Cell = out.get(key) ?? { seeds: [], bits: new Map() };
    cell.seeds.push(s);
    out.set(key, cell);
  }
  // Per seed: the sorted slices that have bits, or undefined when a shard lacks them.
  const slices = new Map<string, Array<[number, number]> | undefined>();
  for (const r of results) {
    const k = `${coordinateKey(r)}#${r.seed}`;
    const have = slices.has(k) ? slices.get(k) : [];
    slices.set(k, have && r.correctBits !== undefined ? [...have, [r.start, r.end]] : undefined);
  }
  for (const [key, cell] of out) {
    for (const s of cell.seeds) {
      const list = slices.get(`${key}#${s.seed}`);
      const uniq = list && [...new Set(list.map(([a, b]) => `${a}-${b}`))].sort().join(',');
      cell.bits.set(s.seed, uniq);
    }
    cell.seeds.sort((x, y) => x.seed - y.seed);
  }
  return out;
}

const side = (seeds: SeedResult[]): CompareSide => {
  const accuracies = seeds.map((s) => s.accuracy);
  return { seeds: seeds.map((s) => s.seed), accuracies, mean: mean(accuracies) };
};

/** Student-t interval of the mean of per-seed differences B − A (same seeds, in order): the CI of the differences. */
export function pairedInterval(a: readonly number[], b: readonly number[]): { diff: number; lo: number; hi: number; df: number } {
  const d = a.map((x, i) => b[i] - x);
  const diff = mean(d);
  const half = ci95HalfWidth(d);
  return { diff, lo: diff - half, hi: diff + half, df: d.length - 1 };
}

/** Welch's interval of mean(b) − mean(a), with Welch–Satterthwaite degrees of freedom. */
export function welchInterval(a: readonly number[], b: readonly number[]): { diff: number; lo: number; hi: number; df: number } {
  const diff = mean(b) - mean(a);
  if (a.length < 2 || b.length < 2) return { diff, lo: NaN, hi: NaN, df: NaN };
  const va = sampleSd(a) ** 2 / a.length;
  const vb = sampleSd(b) ** 2 / b.length;
  const se = Math.sqrt(va + vb);
  // No spread on either side: the difference is exact.
  if (se === 0) return { diff, lo: diff, hi: diff, df: Infinity };
  const df = (va + vb) ** 2 / (va ** 2 / (a.length - 1) + vb ** 2 / (b.length - 1));
  const half = studentTQuantile(0.975, df) * se;
  return { diff, lo: diff - half, hi: diff + half, df };
}

/** Every cell both runs measured, with B − A and its interval, in report order. */
export function compareRuns(resultsA: readonly EvalResult[], resultsB: readonly EvalResult[]): Comparison {
  const A = cells(resultsA);
  const B = cells(resultsB);
  const rows: CompareRow[] = [];
  for (const [key, ca] of A) {
    const cb = B.get(key);
    if (!cb) continue;
    const [a, b] = [side(ca.seeds), side(cb.seeds)];
    const sameSeeds = a.seeds.join() === b.seeds.join();
    // Paired only when seed s of both runs counted the very same examples, which their bits show.
    const sameExamples = sameSeeds && a.seeds.every((s) => ca.bits.get(s) !== undefined && ca.bits.get(s) === cb.bits.get(s));
    const method: CompareMethod = sameExamples ? 'paired' : 'welch';
    const ci = method === 'paired' ? pairedInterval(a.accuracies, b.accuracies) : welchInterval(a.accuracies, b.accuracies);
    rows.push({ ...pickCoordinates(ca.seeds[0]), a, b, ...ci, method });
  }
  rows.sort(compareGroups);
  return { rows, onlyA: [...A.keys()].filter((k) => !B.has(k)).length, onlyB: [...B.keys()].filter((k) => !A.has(k)).length };
}

const modelLabel = (r: CompareRow) => (r.advUnits !== undefined ? `${r.model} (trained in ${r.advUnits} units)` : r.model);
const attackText = (r: CompareRow) => (r.threat === 'clean' ? 'clean' : `${attackLabel(r)}${r.gradient ? ` (${r.gradient} gradient)` : ''}`);
const ciText = (r: CompareRow) => (Number.isFinite(r.lo) ? `${fmtSigned1(r.lo)} to ${fmtSigned1(r.hi)}` : DASH);

/** The comparison as Markdown: what was compared, the rule, and one table per (dataset, eps units, split). */
export function renderComparison(c: Comparison, names: { a: string; b: string }): string {
  const lines = [
    `# glance compare: ${names.b} − ${names.a}`,
    '',
    `A: ${names.a}. B: ${names.b}. Each row is a cell both runs measured: the mean accuracy (%) over seeds of each [seeds], ` +
      'the difference B − A in percentage points and its 95% confidence interval. ' +
      'paired: the runs have the same seeds and per-example results of the same examples, so the interval is the Student-t interval of ' +
      'the per-seed differences; welch: otherwise, Welch\'s unpaired interval. An interval that excludes 0 is a difference the seeds resolve.',
    '',
    `${c.rows.length} cells in both; ${c.onlyA} only in A, ${c.onlyB} only in B.`,
    '',
  ];
  const settings = [...new Map(c.rows.map((r) => [`${r.dataset}|${r.epsUnits}|${r.split}`, r])).values()];
  for (const s of settings) {
    const rows = c.rows.filter((r) => r.dataset === s.dataset && r.epsUnits === s.epsUnits && r.split === s.split);
    const header = ['Model', 'Attack', 'eps', 'A', 'B', 'B − A', '95% CI', 'Method'];
    const body = rows.map((r) => [
      modelLabel(r), attackText(r), r.threat === 'clean' ? DASH : fmtEps(r.eps),
      `${fmt1(r.a.mean)} [${r.a.seeds.length}]`, `${fmt1(r.b.mean)} [${r.b.seeds.length}]`, fmtSigned1(r.diff), ciText(r), r.method,
    ]);
    lines.push(`## ${settingLabel(s)}`, '', ...markdownTable(header, body, [false, false, true, true, true, true, true, false]), '');
  }
  return lines.join('\n');
}

export const COMPARE_COLUMNS = [
  'dataset', 'model', 'adv_units', 'threat', 'attack', 'source', 'gradient', 'eps', 'eps_units', 'split',
  'seeds_a', 'mean_a', 'seeds_b', 'mean_b', 'diff', 'ci_low', 'ci_high', 'df', 'method',
] as const;

/** The comparison as CSV, one row per cell, at full precision. */
export function renderComparisonCsv(c: Comparison): Promise<string> {
  const num = (x: number) => (Number.isFinite(x) ? String(x) : x === Infinity ? 'Inf' : '');
  const rows = c.rows.map((r) => ({
    dataset: r.dataset, model: r.model, adv_units: r.advUnits ?? '', threat: r.threat, attack: r.attack, source: r.source ?? '',
    gradient: r.gradient ?? '', eps: String(r.eps), eps_units: r.epsUnits, split: r.split,
    seeds_a: r.a.seeds.join(' '), mean_a: num(r.a.mean), seeds_b: r.b.seeds.join(' '), mean_b: num(r.b.mean),
    diff: num(r.diff), ci_low: num(r.lo), ci_high: num(r.hi), df: num(r.df), method: r.method,
  }));
  return writeToString(rows, { headers: [...COMPARE_COLUMNS], alwaysWriteHeaders: true, includeEndRowDelimiter: true });
}
