/**
 * GlanceAgain against NormalNet and AdvNet in each cell of Tables I-III, as
 * paired statistics (paired.ts): the per-seed difference of accuracies with
 * its CI over seeds, and McNemar's test per seed on the same test images. The
 * paper's argument is such a comparison ("GlanceAgain is more robust than
 * NormalNet"), which two overlapping CIs of separate means cannot settle.
 */
import type { AttackGradient, EvalResult } from '../experiments/types.js';
import type { AggregateGroup } from './aggregate.js';
import { bitsBySeed, bitsKey, gradientText, type Merged, type SeedBits } from './bits.js';
import { DASH, fmtSigned1, markdownTable, settingKey, settingLabel, type Setting } from './format.js';
import { mcnemar, pairedDifference, type McNemar, type PairedValue } from './paired.js';
import { PAPER_TRANSFER_SOURCE, type PaperTable } from './paper.js';
import { tableI, tableII, tableIII, type Row } from './paper-tables.js';
import type { Summary } from './stats.js';
import type { GradientPart } from './verdicts.js';

export interface Comparison {
  table: PaperTable;
  setting: Setting;
  /** Absent for Table I (no attack). */
  gradient?: AttackGradient;
  /** The paper tables' row labels, e.g. 'GlanceAgain' against 'NormalNet (white-box)'. */
  a: string;
  b: string;
  /** Accuracy of a minus accuracy of b (points), over the seeds both have. */
  difference: Summary & { pairs: PairedValue[] };
  /** Per seed where both have per-example results over the same images. */
  mcnemar: Array<McNemar & { seed: number }>;
}

const SUBJECT = 'GlanceAgain';

function compareRows(table: PaperTable, rows: Row[], s: Setting, gradient: AttackGradient | undefined, bits: Map<string, SeedBits>): Comparison[] {
  // The first row of each model is its paper cell (Table III adds EOT rows after it).
  const firstOf = (model: string) => rows.find((r) => r.label.split(' ')[0] === model && r.group);
  const a = firstOf(SUBJECT);
  if (!a?.group) return [];
  const out: Comparison[] = [];
  for (const model of ['NormalNet', 'AdvNet']) {
    const b = firstOf(model);
    if (!b?.group) continue;
    const ga: AggregateGroup = a.group;
    const gb: AggregateGroup = b.group;
    const tests: Comparison['mcnemar'] = [];
    for (const { seed } of ga.perSeed) {
      const x = bits.get(bitsKey(ga, seed));
      const y = bits.get(bitsKey(gb, seed));
      if (x && y && x.start === y.start && x.end === y.end) tests.push({ seed, ...mcnemar(x.bits, y.bits) });
    }
    const c: Comparison = { table, setting: s, a: a.label, b: b.label, difference: pairedDifference(ga.perSeed, gb.perSeed), mcnemar: tests };
    if (gradient !== undefined) c.gradient = gradient;
    out.push(c);
  }
  return out;
}

/** Every comparison the paper tables allow, per gradient part (each part's results give its per-example bits). */
export function paperComparisons(parts: ReadonlyArray<GradientPart & { results: readonly EvalResult[] }>): Comparison[] {
  const out: Comparison[] = [];
  if (parts.length === 0) return out;
  const seen = new Set<string>();
  const firstBits = bitsBySeed(parts[0].results);
  for (const s of parts[0].settings) {
    const key = `${s.dataset}|${s.split}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const gs = parts[0].groups.filter((g) => g.dataset === s.dataset && g.split === s.split);
    out.push(...compareRows('I', tableI(gs, s, new Set()), s, undefined, firstBits));
  }
  for (const part of parts) {
    const bits = part === parts[0] ? firstBits : bitsBySeed(part.results);
    for (const s of part.settings) {
      const gs = part.groups.filter((g) => settingKey(g) === settingKey(s));
      if (gs.every((g) => g.attack === 'none')) continue;
      out.push(...compareRows('II', tableII(gs, s, PAPER_TRANSFER_SOURCE, new Set()), s, part.gradient, bits));
      out.push(...compareRows('III', tableIII(gs, s, 'EOT', new Set()), s, part.gradient, bits));
    }
  }
  return out;
}

const fmtP = (p: number) => (p < 0.001 ? '< 0.001' : `= ${p.toPrecision(2)}`);

export function renderComparisons(cs: ReadonlyArray<Merged<Comparison>>): string[] {
  if (cs.length === 0) return [];
  const rows = cs.map((c) => {
    const d = c.difference;
    const ci = Number.isFinite(d.ci95) ? `${fmtSigned1(d.mean - d.ci95)} to ${fmtSigned1(d.mean + d.ci95)}` : DASH;
    const tests = c.mcnemar.map((t) => `seed ${t.seed}: ${t.onlyA}/${t.onlyB}, p ${fmtP(t.p)}`).join('; ');
    return [
      c.table, c.table === 'I' ? `${c.setting.dataset} · ${c.setting.split} split` : settingLabel(c.setting), gradientText(c) || DASH,
      `${c.a} − ${c.b}`, `${fmtSigned1(d.mean)} (${ci}) [${d.n}]`, tests || 'no per-example results',
    ];
  });
  return ['## GlanceAgain against NormalNet and AdvNet', '',
    'Paired over the same seeds and test images. Difference: accuracy of GlanceAgain minus the other model (points), ' +
      'mean over seeds with its Student-t 95% CI. McNemar per seed: images only GlanceAgain gets right / only the other model gets right, ' +
      'and the two-sided p of "equally accurate" (exact binomial below 25 discordant images, else chi-square with continuity correction).', '',
    ...markdownTable(['Table', 'Reading', 'Gradient', 'Comparison', 'Difference: mean (95% CI) [n]', 'McNemar per seed'], rows,
      [false, false, false, false, true, false]), ''];
}
