/**
 * Worst-case robust accuracy over the attack ensemble a run has, as AutoAttack
 * reports it: an image counts as robust only if the model classifies it
 * correctly clean and under every attack evaluated on that model at that eps
 * (white-box, EOT and transfer alike). Computed per seed from the per-example
 * bits on the images every attack was run on (a costly attack may run on the
 * first images only: --attack-limit), so it never exceeds any single attack's
 * accuracy on those images.
 */
import { MODELS, type AttackGradient, type EvalResult, type ModelName } from '../experiments/types.js';
import { aggregate, type AggregateGroup } from './aggregate.js';
import { bitsBySeed, bitsKey, gradientText, type Merged } from './bits.js';
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
  /** AdvNet: the units it was trained in. */
  advUnits?: EvalResult['advUnits'];
  /** Per seed, over the images [start, end) every attack and the clean evaluation cover. */
  perSeed: Array<{ seed: number; accuracy: number; correct: number; total: number; start: number; end: number }>;
  /** The single attack with the lowest mean accuracy on the same images, for comparison. */
  strongest: { attack: string; mean: number };
}

/**
 * One worst case per (setting, model, eps > 0) with at least one attack, over
 * the seeds where clean and every attack have bits, on the images they share.
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
    /** Where the members start in `all`. */
    const skip = all.length - members.length;
    const perSeed: WorstCase['perSeed'] = [];
    // Each attack's accuracy per seed on the shared images, to name the strongest on the same footing.
    const single = members.map((): number[] => []);
    for (const { seed } of first.perSeed) {
      const sets = all.map((g) => bits.get(bitsKey(g, seed)));
      if (sets.some((x) => x === undefined)) continue;
      const ok = sets as NonNullable<(typeof sets)[number]>[];
      const start = Math.max(...ok.map((x) => x.start));
      const end = Math.min(...ok.map((x) => x.end));
      if (end <= start) continue;
      let correct = 0;
      const each = ok.map(() => 0);
      for (let i = start; i < end; i++) {
        let all1 = 1;
        ok.forEach((x, j) => {
          const b = x.bits[i - x.start];
          each[j] += b;
          all1 &= b;
        });
        correct += all1;
      }
      const total = end - start;
      perSeed.push({ seed, correct, total, accuracy: (100 * correct) / total, start, end });
      members.forEach((_, j) => single[j].push((100 * each[j + skip]) / total));
    }
    if (perSeed.length === 0) continue;
    const means = single.map((xs) => summarize(xs).mean);
    const k = means.indexOf(Math.min(...means));
    const wc: WorstCase = {
      setting: { dataset: first.dataset, epsUnits: first.epsUnits, split: first.split },
      gradient, model: first.model, eps: first.eps,
      attacks: members.map(attackLabel),
      ...summarize(perSeed.map((v) => v.accuracy)),
      perSeed,
      strongest: { attack: attackLabel(members[k]), mean: means[k] },
    };
    if (first.advUnits !== undefined) wc.advUnits = first.advUnits;
    out.push(wc);
  }
  // Groups come sorted by threat and attack first; a table reads by model, then eps.
  const order = settingsOf(groups).map(settingKey);
  return out.sort((a, b) => order.indexOf(settingKey(a.setting)) - order.indexOf(settingKey(b.setting)) ||
    MODELS.indexOf(a.model) - MODELS.indexOf(b.model) || a.eps - b.eps);
}

/** The worst-case section: one table per setting, models in the paper's order, then eps and gradient. */
export function renderWorstCases(cases: ReadonlyArray<Merged<WorstCase>>): string[] {
  if (cases.length === 0) return [];
  const out = ['## Worst-case robust accuracy', '',
    'An image counts only if the model classifies it correctly clean and under every attack evaluated on it at that eps ' +
      '(the ensemble; as AutoAttack reports), per seed from the per-example results, on the images every attack was run on. ' +
      'Strongest single attack: the lowest mean of one attack alone on the same images.', ''];
  const tables = new Map<string, Array<Merged<WorstCase>>>();
  for (const c of cases) {
    const key = settingKey(c.setting);
    tables.set(key, [...(tables.get(key) ?? []), c]);
  }
  for (const cs of tables.values()) {
    const rows = cs.map((c) => {
      const images = [...new Set(c.perSeed.map((v) => v.total))].sort((a, b) => a - b);
      const model = c.advUnits !== undefined && c.advUnits !== c.setting.epsUnits ? `${c.model} (trained in ${c.advUnits} units)` : c.model;
      return [model, fmtEps(c.eps), gradientText(c), c.attacks.join(', '), images.join(', '), fmtSummary(c), `${fmt1(c.strongest.mean)} (${c.strongest.attack})`];
    });
    out.push(`### ${settingLabel(cs[0].setting)}`, '',
      ...markdownTable(['Model', 'eps', 'Gradient', 'Ensemble', 'Images', 'Worst case: mean ± sd (95% CI) [n]', 'Strongest single attack'], rows,
        [false, true, false, false, true, true, false]), '');
  }
  return out;
}
