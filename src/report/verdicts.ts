/**
 * The paper's claims (every cell of Tables I-III) against ours, each with a
 * verdict by one stated rule. The paper reports one run, so its value is held
 * against a 95% prediction interval for a single run of ours, not against the
 * confidence interval of our mean (which shrinks with seeds and would call any
 * paper value outside it "not reproduced", however noisy one run is).
 */
import type { AttackGradient, ModelName, Split } from '../experiments/types.js';
import type { AggregateGroup } from './aggregate.js';
import { DASH, fmt1, fmtSigned1, markdownTable, settingKey, settingLabel, type Setting } from './format.js';
import { PAPER_TRANSFER_SOURCE, type PaperTable } from './paper.js';
import { tableI, tableII, tableIII, type Row } from './paper-tables.js';
import type { GroupCoordinates } from './shards.js';
import { gradientsOf, gradientText, type Merged } from './bits.js';
import { coordinatesOf } from './sanity.js';
import { predictionHalfWidth, summarize } from './stats.js';

/**
 * Points by which the paper's value may lie outside our prediction interval
 * and still count as reproduced: the paper measured on the training data, so
 * on the test split every cell may shift by the generalisation gap (about 1-2
 * points for these models on clean MNIST); on the training split nothing is added.
 */
export const SPLIT_TOLERANCE: Record<Split, number> = { test: 2, train: 0 };
/** Fewer seeds give no usable estimate of the run-to-run spread. */
export const MIN_SEEDS = 3;
/** A prediction interval wider than +-this many points holds almost any value: the paper's lying inside it proves nothing. */
export const MAX_PREDICTION_HALF_WIDTH = 10;

export type VerdictKind = 'reproduced' | 'not reproduced (higher)' | 'not reproduced (lower)' | 'inconclusive' | 'no verdict' | 'no result';

export const VERDICT_RULE =
  `A claim is reproduced when the paper's value lies inside our 95% prediction interval for a single run ` +
  `(mean ± t(0.975, n−1) · sd · √(1 + 1/n) over seeds) widened by ${SPLIT_TOLERANCE.test} points on the test split ` +
  `(the paper measured on the training data; ${SPLIT_TOLERANCE.train} on the training split), and not reproduced (our value higher or lower) ` +
  `when it lies outside; inconclusive with fewer than ${MIN_SEEDS} seeds, or when the paper's value lies inside a prediction interval ` +
  `wider than ±${MAX_PREDICTION_HALF_WIDTH} points.`;

export interface Judgement {
  verdict: VerdictKind;
  /** Why, in a few words, for the inconclusive and blocked cases; '' otherwise. */
  reason: string;
}

/** The rule of VERDICT_RULE for one cell: the paper's value against our per-seed accuracies (%). */
export function judge(paper: number, accuracies: readonly number[], split: Split, blocked = false): Judgement {
  if (blocked) return { verdict: 'no verdict', reason: 'the run cannot support one' };
  const n = accuracies.length;
  if (n === 0) return { verdict: 'no result', reason: 'no result' };
  if (n < MIN_SEEDS) return { verdict: 'inconclusive', reason: `${n} seed${n === 1 ? '' : 's'}; a verdict needs ${MIN_SEEDS}` };
  const half = predictionHalfWidth(accuracies);
  const m = summarize(accuracies).mean;
  const reach = half + SPLIT_TOLERANCE[split];
  // Outside even a wide interval is a clear failure; inside a wide one is no evidence either way.
  if (paper > m + reach) return { verdict: 'not reproduced (lower)', reason: '' };
  if (paper < m - reach) return { verdict: 'not reproduced (higher)', reason: '' };
  if (!(half <= MAX_PREDICTION_HALF_WIDTH)) {
    return { verdict: 'inconclusive', reason: `prediction interval ±${fmt1(half)} is wider than ±${MAX_PREDICTION_HALF_WIDTH}` };
  }
  return { verdict: 'reproduced', reason: '' };
}

/** One claim of the paper with our numbers and its verdict. Intervals are in %, clipped to [0, 100]. */
export interface Verdict {
  table: PaperTable;
  model: ModelName;
  /** The row as the paper tables print it, e.g. 'NormalNet (white-box)'. */
  cell: string;
  setting: Setting;
  /** The attack gradient of the cell; absent for Table I (no attack). */
  gradient?: AttackGradient;
  /** The coordinates of our group, when we have it. */
  coordinates?: GroupCoordinates;
  paper: number;
  n: number;
  mean: number;
  ci95: [number, number];
  prediction: [number, number];
  difference: number;
  verdict: VerdictKind;
  reason: string;
}

const clip = (x: number) => (Number.isFinite(x) ? Math.min(100, Math.max(0, x)) : NaN);

function verdictOf(table: PaperTable, model: ModelName, row: Row, setting: Setting, gradient: AttackGradient | undefined, blocked: boolean): Verdict {
  const g = row.group;
  const acc = g ? g.perSeed.map((v) => v.accuracy) : [];
  const pi = predictionHalfWidth(acc);
  const mean = g ? g.mean : NaN;
  const ci = g ? g.ci95 : NaN;
  const v: Verdict = {
    table, model, cell: row.label, setting, paper: row.paper!, n: acc.length, mean,
    ci95: [clip(mean - ci), clip(mean + ci)], prediction: [clip(mean - pi), clip(mean + pi)],
    difference: mean - row.paper!,
    ...judge(row.paper!, acc, setting.split, blocked),
  };
  if (gradient !== undefined) v.gradient = gradient;
  if (g) v.coordinates = coordinatesOf(g);
  return v;
}

/** Results of one attack gradient, aggregated. */
export interface GradientPart {
  gradient: AttackGradient;
  groups: AggregateGroup[];
  settings: Setting[];
}

/**
 * Every claim the paper makes that our results address: Table I once per
 * (dataset, split), Tables II and III per setting (dataset, eps units, split)
 * and attack gradient. Cells of other datasets have no paper value and no claim.
 */
export function paperVerdicts(parts: readonly GradientPart[], blocked: boolean): Verdict[] {
  const out: Verdict[] = [];
  const rowsOf = (table: PaperTable, rows: Row[], s: Setting, gradient?: AttackGradient) => {
    // Rows come in model order (tableIII adds an EOT row per model, which has no paper value).
    const models = rows.map((r) => r.label.split(' ')[0] as ModelName);
    rows.forEach((r, i) => {
      if (r.paper !== undefined) out.push(verdictOf(table, models[i], r, s, gradient, blocked));
    });
  };
  if (parts.length === 0) return out;
  const seen = new Set<string>();
  for (const s of parts[0].settings) {
    const key = `${s.dataset}|${s.split}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const gs = parts[0].groups.filter((g) => g.dataset === s.dataset && g.split === s.split);
    rowsOf('I', tableI(gs, s, new Set()), s);
  }
  for (const part of parts) {
    for (const s of part.settings) {
      const gs = part.groups.filter((g) => settingKey(g) === settingKey(s));
      // Clean results are in every setting's Table I above, not a reading of their own.
      if (gs.every((g) => g.attack === 'none')) continue;
      rowsOf('II', tableII(gs, s, PAPER_TRANSFER_SOURCE, new Set()), s, part.gradient);
      rowsOf('III', tableIII(gs, s, 'EOT', new Set()), s, part.gradient);
    }
  }
  return out;
}

/** What keeps a run from supporting verdicts, in words; empty when nothing does. */
export function verdictBlockers(run: { preset?: string; evalLimit?: number; trainLimit?: number; partial?: { done: number; total: number } }): string[] {
  const out: string[] = [];
  if (run.preset === 'smoke') out.push('smoke preset (one epoch on a slice)');
  if (run.partial) out.push(`partial run (${run.partial.done} of ${run.partial.total} jobs)`);
  if (run.evalLimit !== undefined) out.push(`evaluated on the first ${run.evalLimit} images only`);
  if (run.trainLimit !== undefined) out.push(`trained on the first ${run.trainLimit} images only`);
  return out;
}

const range = ([lo, hi]: [number, number]) => (Number.isFinite(lo) ? `${fmt1(lo)}–${fmt1(hi)}` : DASH);
const readingOf = (v: Verdict) => (v.table === 'I' ? `${v.setting.dataset} · ${v.setting.split} split` : settingLabel(v.setting));
const cellText = (v: Verdict) => `Table ${v.table} ${v.cell}`;

/** 'ours 0.5% (95% CI 0.3–0.7) against the paper's 91.2%'. */
function quote(v: Verdict): string {
  return `${cellText(v)}: ours ${fmt1(v.mean)}% (95% CI ${range(v.ci95)}) against the paper's ${fmt1(v.paper)}%`;
}

/**
 * The plain sentences under the table: per eps reading and gradient, which
 * claims hold and which do not; one sentence for all gradients where their
 * claims read the same. Table I joins every reading of its dataset and split.
 */
function sentences(verdicts: ReadonlyArray<Merged<Verdict>>): string[] {
  const settings = new Map<string, Setting>();
  for (const v of verdicts) if (v.table !== 'I') settings.set(settingKey(v.setting), v.setting);
  const out: string[] = [];
  for (const [key, s] of settings) {
    const clean = verdicts.filter((v) => v.table === 'I' && v.setting.dataset === s.dataset && v.setting.split === s.split);
    const here = verdicts.filter((v) => v.table !== 'I' && settingKey(v.setting) === key);
    const gradients = [...new Set(here.flatMap(gradientsOf))];
    const claims = gradients.map((g) => ({ g, vs: [...clean, ...here.filter((v) => gradientsOf(v).includes(g))] }));
    // The gradients that judge every claim through the same (merged) rows read as one.
    const readings: Array<{ label: string; vs: Verdict[] }> = [];
    for (const c of claims) {
      const same = readings.find((r) => r.vs.length === c.vs.length && r.vs.every((v, i) => v === c.vs[i]));
      if (same) same.label += ` = ${c.g}`;
      else readings.push({ label: c.g, vs: c.vs });
    }
    for (const { label, vs: all } of readings) {
      const held = all.filter((v) => v.verdict === 'reproduced');
      const failed = all.filter((v) => v.verdict.startsWith('not reproduced'));
      const open = all.filter((v) => v.verdict === 'inconclusive' || v.verdict === 'no result');
      const parts = [`${held.length} of ${all.length} claims reproduced${held.length ? ` (${held.map(cellText).join(', ')})` : ''}`];
      if (failed.length) parts.push(`not reproduced: ${failed.map((v) => `${quote(v)}, ${v.verdict.slice('not reproduced '.length).replace(/[()]/g, '')}`).join('; ')}`);
      if (open.length) parts.push(`inconclusive: ${open.map((v) => `${cellText(v)} (${v.reason})`).join('; ')}`);
      out.push(`- **${settingLabel(s)}, ${label} gradient**: ${parts.join('; ')}.`);
    }
  }
  return out;
}

/**
 * The section that opens the report. `marks` names the sanity-check warnings
 * that concern a cell (see sanity.ts), printed beside its verdict.
 */
export function renderVerdicts(verdicts: ReadonlyArray<Merged<Verdict>>, blockers: readonly string[], marks: (v: Merged<Verdict>) => string[]): string[] {
  const out = ['## Verdicts', '',
    "Every claim of the paper (Tables I–III: MNIST, FGSM at eps 0.3, one run) against ours. " + VERDICT_RULE, ''];
  if (verdicts.length === 0) {
    return [...out, "None of this run's results is a claim of the paper (MNIST, FGSM at eps 0.3): there is nothing to give a verdict on; the sections below report what it measured.", ''];
  }
  if (blockers.length) {
    out.push(`> **No verdicts: this run cannot support them.** ${blockers.join('; ').replace(/^./, (c) => c.toUpperCase())}. The table gives its numbers without a verdict.`, '');
  }
  const header = ['Table', 'Model', 'Reading', 'Gradient', 'Paper', 'Ours: mean (95% CI) [n]', 'One run: 95% PI', 'Ours − paper', 'Verdict', 'Checks'];
  const rows = verdicts.map((v) => [
    v.table, v.cell, readingOf(v), gradientText(v) || DASH, fmt1(v.paper),
    v.n ? `${fmt1(v.mean)} (${range(v.ci95)}) [${v.n}]` : 'no result',
    range(v.prediction), fmtSigned1(v.difference),
    v.verdict === 'inconclusive' ? `${v.verdict}: ${v.reason}` : v.verdict,
    marks(v).join(', ') || DASH,
  ]);
  out.push(...markdownTable(header, rows, [false, false, false, false, true, true, true, true, false, false]), '');
  if (!blockers.length) out.push(...sentences(verdicts), '');
  return out;
}
