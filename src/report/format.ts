/**
 * Number and Markdown formatting shared by the report renderers. One decimal
 * for accuracies: seeds differ in the first decimal already, so more digits
 * would be noise. Undefined statistics (NaN) print as '—', never as 'NaN'.
 */
import type { AggregateGroup, GroupCoordinates } from './aggregate.js';
import type { Summary } from './stats.js';

export const DASH = '—';

/** One decimal; NaN as '—'; no '-0.0'. */
export function fmt1(x: number): string {
  if (!Number.isFinite(x)) return DASH;
  const s = x.toFixed(1);
  return s === '-0.0' ? '0.0' : s;
}

/** One decimal with an explicit sign, for differences: '+1.2', '-0.4', '0.0'. */
export function fmtSigned1(x: number): string {
  const s = fmt1(x);
  return Number.isFinite(x) && s !== '0.0' && x > 0 ? `+${s}` : s;
}

/** eps as written in a config (0.3, not 0.30000000000000004). */
export function fmtEps(eps: number): string {
  return String(Number(eps.toPrecision(12)));
}

/**
 * The main cell: 'mean ± sd (95% CI lo–hi) [n]'. The interval is clipped to
 * [0, 100]: an accuracy cannot leave it, and '-3.9–8.9' (two seeds) would read
 * as a range from 3.9.
 */
export function fmtSummary(s: Summary): string {
  const clip = (x: number) => Math.min(100, Math.max(0, x));
  const ci = Number.isFinite(s.ci95) ? `${fmt1(clip(s.mean - s.ci95))}–${fmt1(clip(s.mean + s.ci95))}` : DASH;
  return `${fmt1(s.mean)} ± ${fmt1(s.sd)} (95% CI ${ci}) [${s.n}]`;
}

/** The compact cell: 'mean ± sd'. */
export function fmtMeanSd(s: Summary): string {
  return `${fmt1(s.mean)} ± ${fmt1(s.sd)}`;
}

/** A table cell: a pipe would end the cell and a newline the row. */
export function escapeCell(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** A GitHub-flavoured Markdown table; `right` marks right-aligned (numeric) columns. */
export function markdownTable(header: string[], rows: string[][], right: boolean[] = []): string[] {
  const line = (cells: string[]) => `| ${cells.map(escapeCell).join(' | ')} |`;
  const rule = `|${header.map((_, i) => (right[i] ? '---:' : '---')).join('|')}|`;
  return [line(header), rule, ...rows.map(line)];
}

/** The (dataset, eps units, split) a table is about. */
export type Setting = Pick<GroupCoordinates, 'dataset' | 'epsUnits' | 'split'>;

export function settingKey(s: Setting): string {
  return `${s.dataset}|${s.epsUnits}|${s.split}`;
}

export function settingLabel(s: Setting): string {
  return `${s.dataset} · ${s.epsUnits} eps · ${s.split} split`;
}

/** The distinct settings among the groups, in the groups' (sorted) order. */
export function settingsOf(groups: readonly AggregateGroup[]): Setting[] {
  const seen = new Map<string, Setting>();
  for (const g of groups) {
    const key = settingKey(g);
    if (!seen.has(key)) seen.set(key, { dataset: g.dataset, epsUnits: g.epsUnits, split: g.split });
  }
  return [...seen.values()];
}

/** 'white-box fgsm', 'transfer fgsm from NormalNet'. */
export function attackLabel(c: Pick<GroupCoordinates, 'threat' | 'attack' | 'source'>): string {
  const from = c.threat === 'transfer' && c.source !== undefined ? ` from ${c.source}` : '';
  return `${c.threat} ${c.attack}${from}`;
}

/** Same eps up to float noise from parsing and arithmetic. */
export function sameEps(a: number, b: number): boolean {
  return Math.abs(a - b) < 1e-9;
}
