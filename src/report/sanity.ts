/**
 * Checks that an evaluation is not fooling itself (Carlini et al. 2019, "On
 * Evaluating Adversarial Robustness", Section 5; AutoAttack's checks.py): each
 * a pure function over the aggregated groups of one attack gradient, returning
 * how many comparisons it made and a warning with the numbers for each failure.
 *
 * "Beyond noise": a higher accuracy where a lower one is expected counts only
 * when the gap exceeds both the combined 95% CIs of the two means over seeds
 * (sqrt(ci_a^2 + ci_b^2)) and 1.96 binomial standard errors of the difference
 * of two accuracies on the evaluated images (which covers a single seed).
 */
import { isRandomized } from '../experiments/models.js';
import type { AggregateGroup } from './aggregate.js';
import { attackLabel, fmt1, fmtEps, sameEps, settingKey, settingLabel } from './format.js';
import { PAPER_EPS } from './paper.js';
import type { GroupCoordinates } from './shards.js';

export const CHECKS = {
  'eps-monotone': 'accuracy does not rise with eps',
  'iterative-vs-one-step': 'an iterative attack (PGD) is at least as strong as one step (FGSM)',
  'white-box-vs-transfer': 'white-box is at least as strong as transfer on the same model',
  'eot-vs-one-draw': 'EOT is at least as strong as one draw on a randomised model',
  'gradient-free-vs-gradient': 'the gradient-free attack (Square) is not stronger than the gradient attacks',
  'chance-at-large-eps': 'at a large eps (0.5 in pixels) the strongest white-box attack takes accuracy to chance',
  'noise-vs-attack': 'random sign noise of the same eps hurts less than a white-box attack',
  'fgsm-masking': "white-box FGSM is not blunted by label leaking or gradient masking (accuracy rising with eps, or above a transfer attack's, while PGD finds far lower)",
} as const;
export type CheckId = keyof typeof CHECKS;

export interface Warning {
  check: CheckId;
  /** The groups the warning is about; the report marks them. */
  cells: GroupCoordinates[];
  message: string;
}

export interface CheckOutcome {
  check: CheckId;
  /** How many comparisons the check made: 0 means the run has nothing it applies to. */
  compared: number;
  warnings: Warning[];
}

/** Pixels per normalized eps unit (attacks/eps.ts MNIST_STD; report/ may not import attacks/). */
const NORMALIZED_STD = 0.3081;
/** In pixels: an eps of 0.5 moves any image to the uniform grey 0.5, so nothing can stay classified better than chance. */
export const LARGE_PIXEL_EPS = 0.5;
/** Chance for the 10 classes of MNIST and Fashion-MNIST, and the bound the strongest attack must reach at a large eps. */
export const CHANCE = 10;
export const CHANCE_BOUND = 2 * CHANCE;
/** Iterative attack -> its single step. */
const ITERATIVE: Record<string, string> = { pgd: 'fgsm', 'eot-pgd': 'eot-fgsm' };
/** EOT attack -> its single-draw form. */
const EOT_OF: Record<string, string> = { 'eot-fgsm': 'fgsm', 'eot-pgd': 'pgd' };
/** Untargeted gradient attacks: a targeted attack aims at one label, so its accuracy is no measure of strength. */
const GRADIENT = ['fgsm', 'eot-fgsm', 'pgd', 'eot-pgd'];

/** The smallest gap (points) by which `higher` must exceed `lower` to be beyond noise (see the file comment). */
export function noiseMargin(a: AggregateGroup, b: AggregateGroup): number {
  const ci = Math.sqrt(a.ci95 ** 2 + b.ci95 ** 2);
  const binVar = (g: AggregateGroup) => {
    const images = g.perSeed.reduce((s, v) => s + v.total, 0);
    const p = g.mean / 100;
    return images > 0 ? (p * (1 - p)) / images : NaN;
  };
  const binomial = 100 * 1.96 * Math.sqrt(binVar(a) + binVar(b));
  return Math.max(Number.isFinite(ci) ? ci : 0, Number.isFinite(binomial) ? binomial : 0);
}

const beyond = (lower: AggregateGroup, higher: AggregateGroup) => higher.mean - lower.mean > noiseMargin(lower, higher);

/** A group's coordinates alone (whatever fields identify it), without its statistics. */
export function coordinatesOf(g: AggregateGroup): GroupCoordinates {
  const { n, mean, sd, ci95, min, max, perSeed, targetHitRate, ...c } = g;
  return c;
}
const coords = coordinatesOf;
const cell = (g: AggregateGroup) => `${g.model} ${attackLabel(g)} at eps ${fmtEps(g.eps)}: ${fmt1(g.mean)}%`;
const where = (g: AggregateGroup) => settingLabel(g);
const isAttack = (g: AggregateGroup, ...names: string[]) => names.includes(g.attack);
const sameCell = (a: AggregateGroup, b: AggregateGroup) =>
  settingKey(a) === settingKey(b) && a.model === b.model && a.advUnits === b.advUnits && sameEps(a.eps, b.eps);
const whiteBox = (g: AggregateGroup) => g.threat === 'white-box';
/** The clean accuracy of the model a group attacks (for AdvNet: trained in the same units). */
export const cleanOf = (groups: readonly AggregateGroup[], g: AggregateGroup) =>
  groups.find((c) => c.attack === 'none' && c.dataset === g.dataset && c.split === g.split && c.model === g.model && c.advUnits === g.advUnits);

/** Every series (setting, model, threat, attack, source) with more than one eps, sorted by eps, clean accuracy as eps 0. */
function series(groups: readonly AggregateGroup[]): AggregateGroup[][] {
  const by = new Map<string, AggregateGroup[]>();
  for (const g of groups) {
    if (g.attack === 'none') continue;
    const key = [settingKey(g), g.model, g.advUnits ?? '', g.threat, g.attack, g.source ?? ''].join('|');
    by.set(key, [...(by.get(key) ?? []), g]);
  }
  return [...by.values()].map((gs) => {
    const clean = cleanOf(groups, gs[0]);
    const sorted = [...gs].sort((a, b) => a.eps - b.eps);
    return clean && !sorted.some((g) => g.eps === 0) ? [{ ...clean, eps: 0 }, ...sorted] : sorted;
  }).filter((s) => s.length > 1);
}

/** The largest rise beyond noise in a series, as [lower eps group, higher eps group]. */
function largestRise(s: AggregateGroup[]): [AggregateGroup, AggregateGroup] | undefined {
  let best: [AggregateGroup, AggregateGroup] | undefined;
  for (let i = 0; i < s.length; i++) {
    for (let j = i + 1; j < s.length; j++) {
      if (beyond(s[i], s[j]) && (!best || s[j].mean - s[i].mean > best[1].mean - best[0].mean)) best = [s[i], s[j]];
    }
  }
  return best;
}

export function checkEpsMonotone(groups: readonly AggregateGroup[]): CheckOutcome {
  const all = series(groups);
  const warnings: Warning[] = [];
  for (const s of all) {
    const rise = largestRise(s);
    if (!rise) continue;
    const [lo, hi] = rise;
    warnings.push({
      check: 'eps-monotone', cells: [lo, hi].filter((g) => g.attack !== 'none').map(coords),
      message: `${where(hi)}: ${hi.model} ${attackLabel(hi)}: accuracy rises from ${fmt1(lo.mean)}% at eps ${fmtEps(lo.eps)}` +
        `${lo.attack === 'none' ? ' (clean)' : ''} to ${fmt1(hi.mean)}% at eps ${fmtEps(hi.eps)} (noise margin ${fmt1(noiseMargin(lo, hi))})`,
    });
  }
  return { check: 'eps-monotone', compared: all.length, warnings };
}

/**
 * Pairs each group expected to leave accuracy higher or equal (`high`) with
 * the groups of the same setting, model and eps expected to leave it lower or
 * equal (`low`, as `pair` accepts them), and warns where a `low` one is above
 * its `high` one beyond noise.
 */
function pairwise(
  check: CheckId,
  groups: readonly AggregateGroup[],
  isHigh: (g: AggregateGroup) => boolean,
  pair: (high: AggregateGroup, low: AggregateGroup) => boolean,
  says: string,
): CheckOutcome {
  let compared = 0;
  // One warning per pair of attacks on a model, however many eps it fails at: a sweep would list the same finding ten times.
  const failures = new Map<string, Array<[AggregateGroup, AggregateGroup]>>();
  for (const high of groups.filter(isHigh)) {
    for (const low of groups.filter((g) => g !== high && sameCell(high, g) && pair(high, g))) {
      compared++;
      if (!beyond(high, low)) continue;
      const key = [settingKey(low), low.model, low.advUnits ?? '', attackLabel(high), attackLabel(low)].join('|');
      failures.set(key, [...(failures.get(key) ?? []), [high, low]]);
    }
  }
  const warnings = [...failures.values()].map((pairs): Warning => {
    // The example: the paper's eps when it failed there, else the largest gap.
    const [high, low] = pairs.find(([h]) => sameEps(h.eps, PAPER_EPS)) ??
      pairs.reduce((a, b) => (b[1].mean - b[0].mean > a[1].mean - a[0].mean ? b : a));
    const eps = pairs.map(([h]) => h.eps).sort((a, b) => a - b);
    const more = pairs.length > 1 ? `; the same at ${pairs.length} eps in all (${fmtEps(eps[0])}–${fmtEps(eps[eps.length - 1])})` : '';
    return {
      check, cells: pairs.flatMap(([h, l]) => [coords(h), coords(l)]),
      message: `${where(low)}: ${low.model} ${attackLabel(low)} leaves ${fmt1(low.mean)}% at eps ${fmtEps(low.eps)}, above ` +
        `${attackLabel(high)} with ${fmt1(high.mean)}% (noise margin ${fmt1(noiseMargin(high, low))})${more}: ${says}`,
    };
  });
  return { check, compared, warnings };
}

export const checkIterative = (groups: readonly AggregateGroup[]) =>
  pairwise('iterative-vs-one-step', groups, (g) => isAttack(g, ...Object.values(ITERATIVE)),
    (high, low) => ITERATIVE[low.attack] === high.attack && low.threat === high.threat && low.source === high.source,
    'the iterative attack is weaker than its single step; raise its steps or step size');

export const checkWhiteBoxVsTransfer = (groups: readonly AggregateGroup[]) =>
  pairwise('white-box-vs-transfer', groups, (g) => g.threat === 'transfer' && g.source !== g.model,
    (high, low) => whiteBox(low) && low.attack === high.attack,
    'attacking the model itself does worse than images crafted on another model: its gradients may be masked');

export const checkEot = (groups: readonly AggregateGroup[]) =>
  pairwise('eot-vs-one-draw', groups, (g) => whiteBox(g) && isRandomized(g.model) && isAttack(g, ...Object.values(EOT_OF)),
    (high, low) => whiteBox(low) && EOT_OF[low.attack] === high.attack,
    'EOT over the random transforms does worse than one draw; raise K');

export const checkNoise = (groups: readonly AggregateGroup[]) =>
  pairwise('noise-vs-attack', groups, (g) => isAttack(g, 'noise'),
    (high, low) => whiteBox(low) && isAttack(low, ...GRADIENT, 'square'),
    'the attack hurts less than random sign noise of the same eps: it is broken or its gradients are masked');

/** Square against the strongest white-box gradient attack on the same model and eps. */
export function checkGradientFree(groups: readonly AggregateGroup[]): CheckOutcome {
  const warnings: Warning[] = [];
  let compared = 0;
  for (const square of groups.filter((g) => isAttack(g, 'square'))) {
    const gradient = groups.filter((g) => whiteBox(g) && isAttack(g, ...GRADIENT) && sameCell(g, square));
    if (gradient.length === 0) continue;
    compared++;
    const best = gradient.reduce((a, b) => (b.mean < a.mean ? b : a));
    if (!beyond(square, best)) continue;
    warnings.push({
      check: 'gradient-free-vs-gradient', cells: [square, best].map(coords),
      message: `${where(square)}: ${cell(square)} is below the strongest gradient attack, ${cell(best)} ` +
        `(noise margin ${fmt1(noiseMargin(square, best))}): a gradient-free search beats the gradients, so they are likely masked ` +
        'and the gradient attacks overstate robustness',
    });
  }
  return { check: 'gradient-free-vs-gradient', compared, warnings };
}

export function checkChance(groups: readonly AggregateGroup[]): CheckOutcome {
  const pixels = (g: AggregateGroup) => (g.epsUnits === 'normalized' ? g.eps * NORMALIZED_STD : g.eps);
  const large = groups.filter((g) => whiteBox(g) && pixels(g) >= LARGE_PIXEL_EPS - 1e-9);
  const cells = new Map<string, AggregateGroup[]>();
  for (const g of large) {
    const key = `${settingKey(g)}|${g.model}|${g.eps}`;
    cells.set(key, [...(cells.get(key) ?? []), g]);
  }
  const warnings: Warning[] = [];
  for (const gs of cells.values()) {
    const strongest = gs.reduce((a, b) => (b.mean < a.mean ? b : a));
    if (strongest.mean > CHANCE_BOUND) {
      warnings.push({
        check: 'chance-at-large-eps', cells: gs.map(coords),
        message: `${where(strongest)}: the strongest white-box attack on ${strongest.model} at eps ${fmtEps(strongest.eps)} ` +
          `(${fmtEps(pixels(strongest))} in pixels) leaves ${fmt1(strongest.mean)}% (${strongest.attack}), above ${CHANCE_BOUND}% (twice chance): ` +
          'at this eps every image can be moved to uniform grey, so the attacks are not finding adversarial examples that exist',
      });
    }
  }
  return { check: 'chance-at-large-eps', compared: cells.size, warnings };
}

/**
 * AdvNet's pattern: white-box FGSM leaving more accuracy than it should while
 * PGD takes the model far lower. Two signs, either enough: in a sweep FGSM's
 * accuracy rises with eps; at a single eps the model resists FGSM on its own
 * gradient better than FGSM crafted on another model. Named, because a reader
 * would otherwise read those FGSM cells as robustness (label leaking, Kurakin
 * et al. 2017; gradient masking, Papernot et al. 2017; Athalye et al. 2018).
 */
export function checkFgsmMasking(groups: readonly AggregateGroup[]): CheckOutcome {
  const warnings: Warning[] = [];
  let compared = 0;
  const named = new Set<string>();
  const modelKey = (g: AggregateGroup) => [settingKey(g), g.model, g.advUnits ?? ''].join('|');
  const fgsmSeries = series(groups).filter((s) => s[s.length - 1].attack === 'fgsm' && whiteBox(s[s.length - 1]));
  for (const s of fgsmSeries) {
    const rise = largestRise(s);
    const hi = rise?.[1] ?? s[s.length - 1];
    const pgd = groups.find((g) => g.attack === 'pgd' && whiteBox(g) && sameCell(g, hi));
    if (!pgd) continue;
    compared++;
    if (!rise || !beyond(pgd, hi)) continue;
    const lo = rise[0];
    named.add(modelKey(hi));
    warnings.push({
      check: 'fgsm-masking', cells: [lo, hi, pgd].filter((g) => g.attack !== 'none').map(coords),
      message: `${where(hi)}: ${hi.model}'s white-box FGSM accuracy rises with eps (${fmt1(lo.mean)}% at eps ${fmtEps(lo.eps)} to ` +
        `${fmt1(hi.mean)}% at eps ${fmtEps(hi.eps)}) while PGD takes it to ${fmt1(pgd.mean)}% at eps ${fmtEps(hi.eps)}: ` +
        'label leaking or gradient masking. Its FGSM cells measure a weak attack, not robustness; read PGD (or the worst case) instead',
    });
  }
  // The single-eps sign, one warning per model however many eps show it.
  const byModel = new Map<string, Array<[AggregateGroup, AggregateGroup, AggregateGroup]>>();
  for (const fgsm of groups.filter((g) => whiteBox(g) && g.attack === 'fgsm')) {
    const pgd = groups.find((g) => whiteBox(g) && g.attack === 'pgd' && sameCell(g, fgsm));
    const transfer = groups.filter((g) => g.threat === 'transfer' && g.attack === 'fgsm' && g.source !== g.model && sameCell(g, fgsm));
    if (!pgd || transfer.length === 0) continue;
    compared++;
    const easier = transfer.find((t) => beyond(t, fgsm));
    if (!easier || !beyond(pgd, fgsm) || named.has(modelKey(fgsm))) continue;
    byModel.set(modelKey(fgsm), [...(byModel.get(modelKey(fgsm)) ?? []), [fgsm, easier, pgd]]);
  }
  for (const found of byModel.values()) {
    const [fgsm, transfer, pgd] = found.find(([f]) => sameEps(f.eps, PAPER_EPS)) ?? found[found.length - 1];
    const more = found.length > 1 ? ` (the same at ${found.length} eps)` : '';
    warnings.push({
      check: 'fgsm-masking', cells: found.flatMap((x) => x.map(coords)),
      message: `${where(fgsm)}: ${fgsm.model}'s white-box FGSM leaves ${fmt1(fgsm.mean)}% at eps ${fmtEps(fgsm.eps)}, more than FGSM ` +
        `crafted on ${transfer.source} (${fmt1(transfer.mean)}%), while PGD takes it to ${fmt1(pgd.mean)}%${more}: ` +
        (isRandomized(fgsm.model)
          ? "one random draw's gradient misleads the attack (gradient masking by randomness; EOT is the adaptive attack). "
          : 'its own gradient points the wrong way, by label leaking or gradient masking. ') +
        'Its FGSM cells measure a weak attack, not robustness; read PGD (or the worst case) instead',
    });
  }
  return { check: 'fgsm-masking', compared, warnings };
}

/** Every check over the groups of one attack gradient, in CHECKS order. */
export function runChecks(groups: readonly AggregateGroup[]): CheckOutcome[] {
  return [
    checkEpsMonotone(groups), checkIterative(groups), checkWhiteBoxVsTransfer(groups), checkEot(groups),
    checkGradientFree(groups), checkChance(groups), checkNoise(groups), checkFgsmMasking(groups),
  ];
}
