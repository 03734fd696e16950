/**
 * Worst-case robust accuracy over the attack ensemble a run has, as AutoAttack
 * reports it: an image counts as robust only if the model classifies it
 * correctly clean and under every attack evaluated on that model at that eps
 * (white-box, EOT and transfer alike). Computed per seed from the per-example
 * bits, so it can never exceed any single attack's accuracy.
 */
import { MODELS, type AttackGradient, type EvalResult, type ModelName } from '../experiments/types.js';
import { aggregate, type AggregateGroup } from './aggregate.js';
import { bitsBySeed, bitsKey } from './bits.js';
import { attackLabel, fmt1, fmtEps, fmtSummary, markdownTable, settingKey, settingLabel, settingsOf, type Setting } from './format.js';
import { cleanOf } from './sanity.js';
import { summarize, type Summary } from './stats.js';

export interface WorstCase extends Summary {
  setting: Setting;
  gradient: AttackGradient;
  model: ModelName;
  eps: number;
  /** The attacks of the ensemble, as 'white-box pgd', 'transfer fgsm from NormalNet'. */
  attacks: string[];
  perSeed: Array<{ seed: number; accuracy: number; correct: number; total: number }>;
  /** The single attack with the lowest mean accuracy, for comparison. */
  strongest: { attack: string; mean: number };
}

/**
 * One worst case per (setting, model, eps > 0) with at least one attack, over
 * the seeds where clean and every attack have bits over the same images.
 */
export function worstCases(results: readonly EvalResult[], gradient: AttackGradient): WorstCase[] {
  const groups = aggregate(results);
  const bits = bitsBySeed(results);
  const cells = new Map<string, AggregateGroup[]>();
  for (const g of groups) {
    if (g.attack === 'none' || g.eps === 0) continue;
    const key = `${settingKey(g)}|${g.model}|${g.advUnits ?? ''}|${fmtEps(g.eps)}`;
    cells.set(key, [...(cells.get(key) ?? []), g]);
  }
  const out: WorstCase[] = [];
  for (const members of cells.values()) {
    const first = members[0];
    const clean = cleanOf(groups, first);
    const all = clean ? [clean, ...members] : members;
    const perSeed: WorstCase['perSeed'] = [];
    for (const { seed } of first.perSeed) {
      const sets = all.map((g) => bits.get(bitsKey(g, seed)));
      if (sets.some((s) => s === undefined)) continue;
      const [a, ...rest] = sets as NonNullable<(typeof sets)[number]>[];
      if (rest.some((s) => s.start !== a.start || s.end !== a.end)) continue;
      let correct = 0;
      for (let i = 0; i < a.bits.length; i++) if (rest.every((s) => s.bits[i])) correct += a.bits[i];
      perSeed.push({ seed, correct, total: a.bits.length, accuracy: (100 * correct) / a.bits.length });
    }
    if (perSeed.length === 0) continue;
    const strongest = members.reduce((x, y) => (y.mean < x.mean ? y : x));
    out.push({
      setting: { dataset: first.dataset, epsUnits: first.epsUnits, split: first.split },
      gradient, model: first.model, eps: first.eps,
      attacks: members.map(attackLabel),
      ...summarize(perSeed.map((v) => v.accuracy)),
      perSeed,
      strongest: { attack: attackLabel(strongest), mean: strongest.mean },
    });
  }
  // Groups come sorted by threat and attack first; a table reads by model, then eps.
  const order = settingsOf(groups).map(settingKey);
  return out.sort((a, b) => order.indexOf(settingKey(a.setting)) - order.indexOf(settingKey(b.setting)) ||
    MODELS.indexOf(a.model) - MODELS.indexOf(b.model) || a.eps - b.eps);
}

/** The worst-case section: one table per setting and gradient, models in the paper's order, then eps. */
export function renderWorstCases(cases: readonly WorstCase[]): string[] {
  if (cases.length === 0) return [];
  const out = ['## Worst-case robust accuracy', '',
    'An image counts only if the model classifies it correctly clean and under every attack evaluated on it at that eps ' +
      '(the ensemble; as AutoAttack reports), per seed from the per-example results. Strongest single attack: the lowest mean of one attack alone.', ''];
  const tables = new Map<string, WorstCase[]>();
  for (const c of cases) {
    const key = `${settingKey(c.setting)}|${c.gradient}`;
    tables.set(key, [...(tables.get(key) ?? []), c]);
  }
  for (const cs of tables.values()) {
    const rows = cs.map((c) => [c.model, fmtEps(c.eps), c.attacks.join(', '), fmtSummary(c), `${fmt1(c.strongest.mean)} (${c.strongest.attack})`]);
    out.push(`### ${settingLabel(cs[0].setting)} · ${cs[0].gradient} gradient`, '',
      ...markdownTable(['Model', 'eps', 'Ensemble', 'Worst case: mean ± sd (95% CI) [n]', 'Strongest single attack'], rows, [false, true, false, true, false]), '');
  }
  return out;
}
