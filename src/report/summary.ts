/**
 * Everything the report concludes, computed once from the results: the
 * verdicts, the sanity checks, the paired comparisons and the worst cases. The
 * Markdown report renders it and summary.json stores it as is, versioned, so a
 * script reads the same conclusions a reader sees. NaN (undefined statistics)
 * becomes null in JSON.
 */
import type { AttackGradient, EvalResult } from '../experiments/types.js';
import { aggregate } from './aggregate.js';
import { byGradient } from './bits.js';
import { paperComparisons, type Comparison } from './comparisons.js';
import { worstCases, type WorstCase } from './ensemble.js';
import { settingsOf } from './format.js';
import { runChecks, CHECKS, type CheckId, type Warning } from './sanity.js';
import { coordinateKey } from './shards.js';
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
  verdicts: Verdict[];
  checks: CheckSummary[];
  comparisons: Comparison[];
  worstCases: WorstCase[];
}

export function buildSummary(results: readonly EvalResult[], run: RunFacts = {}): ReportSummary {
  const parts = byGradient(results).map((p) => {
    const groups = aggregate(p.results);
    return { ...p, groups, settings: settingsOf(groups) } satisfies GradientPart & { results: EvalResult[] };
  });
  const blockers = verdictBlockers(run);
  let next = 1;
  const checks: CheckSummary[] = parts.flatMap((p) => runChecks(p.groups).map((c) => ({
    check: c.check, asks: CHECKS[c.check], gradient: p.gradient, compared: c.compared,
    warnings: c.warnings.map((w) => ({ ...w, id: `W${next++}` })),
  })));
  return {
    format: SUMMARY_FORMAT,
    version: SUMMARY_VERSION,
    blockers,
    verdicts: paperVerdicts(parts, blockers.length > 0),
    checks,
    comparisons: paperComparisons(parts),
    worstCases: parts.flatMap((p) => worstCases(p.results, p.gradient)),
  };
}

/** The ids of the warnings that concern a verdict's cell (same coordinates and gradient). */
export function warningsOf(summary: ReportSummary, v: Verdict): string[] {
  if (!v.coordinates) return [];
  const key = coordinateKey(v.coordinates);
  return summary.checks
    .filter((c) => c.gradient === v.gradient)
    .flatMap((c) => c.warnings.filter((w) => w.cells.some((x) => coordinateKey(x) === key)).map((w) => w.id));
}

/** The sanity-check section: every warning with its numbers, then what was checked. */
export function renderChecks(summary: ReportSummary): string[] {
  const out = ['## Sanity checks', '',
    'Checks of the evaluation itself (Carlini et al. 2019, "On Evaluating Adversarial Robustness"; AutoAttack\'s checks). ' +
      'A higher accuracy where a lower one is expected counts only beyond noise: above both the combined 95% CIs of the two means ' +
      'and 1.96 binomial standard errors of the difference on the evaluated images.', ''];
  const warnings = summary.checks.flatMap((c) => c.warnings.map((w) => ({ ...w, gradient: c.gradient })));
  const gradients = new Set(summary.checks.map((c) => c.gradient));
  const tag = (g: AttackGradient) => (gradients.size > 1 ? `, ${g} gradient` : '');
  if (warnings.length) {
    out.push(...warnings.map((w) => `- **Warning ${w.id}** (${w.check}${tag(w.gradient)}): ${w.message}.`), '');
  } else {
    out.push('No warnings.', '');
  }
  out.push(...summary.checks.map((c) =>
    `- ${c.asks}${tag(c.gradient)}: ${c.compared ? `${c.compared} comparison${c.compared === 1 ? '' : 's'}, ` +
      (c.warnings.length ? `warnings ${c.warnings.map((w) => w.id).join(', ')}` : 'passed') : 'not applicable (no such cells in this run)'}`), '');
  return out;
}
