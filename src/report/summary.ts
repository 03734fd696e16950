/**
 * Everything the report concludes, computed once from the results: the
 * verdicts, the sanity checks, the paired comparisons and the worst cases. The
 * Markdown report renders it and summary.json stores it as is, versioned, so a
 * script reads the same conclusions a reader sees. NaN (undefined statistics)
 * becomes null in JSON.
 */
import type { AttackGradient, EvalResult } from '../experiments/types.js';
import { aggregate } from './aggregate.js';
import { byGradient, gradientsOf, gradientText, mergeGradients, type Merged } from './bits.js';
import { paperComparisons, type Comparison } from './comparisons.js';
import { worstCases, type WorstCase } from './ensemble.js';
import { settingKey, settingsOf } from './format.js';
import { runChecks, CHECKS, type CheckId, type Warning } from './sanity.js';
import { coordinateKey, type GroupCoordinates } from './shards.js';
import { paperVerdicts, verdictBlockers, type GradientPart, type Verdict } from './verdicts.js';

export const SUMMARY_FORMAT = 'glance-bench-summary';
/** Raised when a field changes meaning or goes away; new fields keep the version. */
export const SUMMARY_VERSION = 1;

/** What the results alone do not say about a run: how it was made. */
export interface RunFacts {
  preset?: string;
  evalLimit?: number;
  trainLimit?: number;
  partial?: { done: number; total: number };
}

export interface CheckSummary {
  check: CheckId;
  /** Other gradients whose outcome was the same. */
  sameAs?: AttackGradient[];
  /** What the check asks, in words. */
  asks: string;
  gradient: AttackGradient;
  compared: number;
  warnings: Array<Warning & { id: string }>;
}

export interface ReportSummary {
  format: typeof SUMMARY_FORMAT;
  version: typeof SUMMARY_VERSION;
  /** Why the run cannot support verdicts; empty when it can. */
  blockers: string[];
  /** Each item once for every gradient with the same numbers (sameAs lists the others). */
  verdicts: Array<Merged<Verdict>>;
  checks: CheckSummary[];
  comparisons: Array<Merged<Comparison>>;
  worstCases: Array<Merged<WorstCase>>;
}

export function buildSummary(results: readonly EvalResult[], run: RunFacts = {}): ReportSummary {
  const parts = byGradient(results).map((p) => {
    const groups = aggregate(p.results);
    return { ...p, groups, settings: settingsOf(groups) } satisfies GradientPart & { results: EvalResult[] };
  });
  const blockers = verdictBlockers(run);
  const same = (x: unknown) => JSON.stringify(x);
  let next = 1;
  const checks = mergeGradients(
    parts.flatMap((p) => runChecks(p.groups).map((c) => ({ ...c, gradient: p.gradient }))),
    // Cells carry their gradient; the messages carry the numbers.
    (c) => c.check, (c) => same([c.compared, c.warnings.map((w) => w.message)]),
  ).map((c): CheckSummary => ({
    check: c.check, asks: CHECKS[c.check], gradient: c.gradient, ...(c.sameAs ? { sameAs: c.sameAs } : {}), compared: c.compared,
    warnings: c.warnings.map((w) => ({ ...w, id: `W${next++}` })),
  }));
  return {
    format: SUMMARY_FORMAT,
    version: SUMMARY_VERSION,
    blockers,
    verdicts: mergeGradients(paperVerdicts(parts, blockers.length > 0), (v) => `${v.table}|${v.cell}|${settingKey(v.setting)}`,
      (v) => same([v.n, v.mean, v.ci95, v.prediction, v.verdict, v.reason])),
    checks,
    comparisons: mergeGradients(paperComparisons(parts), (c) => `${c.table}|${settingKey(c.setting)}|${c.a}|${c.b}`,
      (c) => same([c.difference, c.mcnemar])),
    worstCases: mergeGradients(parts.flatMap((p) => worstCases(p.results, p.gradient)),
      (w) => `${settingKey(w.setting)}|${w.model}|${w.advUnits ?? ''}|${w.eps}`, (w) => same([w.attacks, w.perSeed, w.strongest])),
  };
}

/** The ids of the warnings that concern a verdict's cell (same coordinates, a gradient in common). */
export function warningsOf(summary: ReportSummary, v: Merged<Verdict>): string[] {
  if (!v.coordinates) return [];
  // The gradient is matched through the check's gradients: a merged check's cells name only the first.
  const cellKey = (c: GroupCoordinates) => coordinateKey({ ...c, gradient: undefined });
  const key = cellKey(v.coordinates);
  const gradients = gradientsOf(v);
  return summary.checks
    .filter((c) => gradientsOf(c).some((g) => gradients.includes(g)))
    .flatMap((c) => c.warnings.filter((w) => w.cells.some((x) => cellKey(x) === key)).map((w) => w.id));
}

/** The sanity-check section: every warning with its numbers, then what was checked. */
export function renderChecks(summary: ReportSummary): string[] {
  const out = ['## Sanity checks', '',
    'Checks of the evaluation itself (Carlini et al. 2019, "On Evaluating Adversarial Robustness"; AutoAttack\'s checks). ' +
      'A higher accuracy where a lower one is expected counts only beyond noise: above both the combined 95% CIs of the two means ' +
      'and 1.96 binomial standard errors of the difference on the evaluated images.', ''];
  const gradients = new Set(summary.checks.flatMap(gradientsOf));
  const tag = (c: CheckSummary) => (gradients.size > 1 ? `, ${gradientText(c)} gradient` : '');
  const warnings = summary.checks.flatMap((c) => c.warnings.map((w) => ({ ...w, tag: tag(c) })));
  if (warnings.length) {
    out.push(...warnings.map((w) => `- **Warning ${w.id}** (${w.check}${w.tag}): ${w.message}.`), '');
  } else {
    out.push('No warnings.', '');
  }
  out.push(...summary.checks.map((c) =>
    `- ${c.asks}${tag(c)}: ${c.compared ? `${c.compared} comparison${c.compared === 1 ? '' : 's'}, ` +
      (c.warnings.length ? `warnings ${c.warnings.map((w) => w.id).join(', ')}` : 'passed') : 'not applicable (no such cells in this run)'}`), '');
  return out;
}
