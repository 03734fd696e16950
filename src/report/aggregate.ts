/**
 * From result lines to the numbers a report prints: shards summed per seed
 * (shards.ts), then per group of the same coordinates across seeds: n, mean,
 * sd, 95% CI, min, max of the accuracy, and the per-seed values so that every
 * summary can be checked against its inputs.
 */
import { ATTACK_GRADIENTS, ATTACKS, MODELS, THREATS, type EvalResult } from '../experiments/types.js';
import { PAPER_DATASET } from './paper.js';
import { coordinateKey, sumShards, type GroupCoordinates, type SeedResult } from './shards.js';
import { summarize, type Summary } from './stats.js';

export { ShardOverlapError, sumShards, coordinateKey, type GroupCoordinates, type SeedResult } from './shards.js';

/** One seed's value inside a group. */
export interface SeedValue {
  seed: number;
  accuracy: number;
  correct: number;
  total: number;
  targetHits?: number;
}

/** A group of seeds with the same coordinates, summarised; accuracy is in percent. */
export interface AggregateGroup extends GroupCoordinates, Summary {
  /** Per-seed values, sorted by seed. */
  perSeed: SeedValue[];
  /** For targeted attacks: the summary of 100 * targetHits / total over seeds. */
  targetHitRate?: Summary;
}

/**
 * A fixed order, so that reports are deterministic and read like the paper:
 * the paper's dataset (MNIST) first, then other datasets, eps units, split, then the paper's order of threats, attacks and
 * models, then source, AdvNet's training units, attack gradient and eps.
 */
export function compareGroups(a: GroupCoordinates, b: GroupCoordinates): number {
  const byName = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  const rank = <T>(list: readonly T[], x: T) => list.indexOf(x);
  const sourceRank = (s?: string) => (s === undefined ? -1 : rank(MODELS as readonly string[], s));
  const paperFirst = (d: string) => (d === PAPER_DATASET ? 0 : 1);
  return (
    paperFirst(a.dataset) - paperFirst(b.dataset) ||
    byName(a.dataset, b.dataset) ||
    byName(a.epsUnits, b.epsUnits) ||
    byName(a.split, b.split) ||
    rank(THREATS, a.threat) - rank(THREATS, b.threat) ||
    rank(ATTACKS, a.attack) - rank(ATTACKS, b.attack) ||
    sourceRank(a.source) - sourceRank(b.source) ||
    rank(MODELS, a.model) - rank(MODELS, b.model) ||
    byName(a.advUnits ?? '', b.advUnits ?? '') ||
    // The default (stable) gradient first; absent is the float32 of older results.
    rank(ATTACK_GRADIENTS, a.gradient ?? 'float32') - rank(ATTACK_GRADIENTS, b.gradient ?? 'float32') ||
    a.eps - b.eps
  );
}

/** Groups already summed per-seed results across seeds. */
export function groupSeeds(seeds: readonly SeedResult[]): AggregateGroup[] {
  const byGroup = new Map<string, SeedResult[]>();
  for (const s of seeds) {
    const key = coordinateKey(s);
    const list = byGroup.get(key);
    if (list) list.push(s);
    else byGroup.set(key, [s]);
  }
  const groups: AggregateGroup[] = [];
  for (const members of byGroup.values()) {
    const sorted = [...members].sort((a, b) => a.seed - b.seed);
    const first = sorted[0];
    const perSeed = sorted.map((s): SeedValue => {
      const v: SeedValue = { seed: s.seed, accuracy: s.accuracy, correct: s.correct, total: s.total };
      if (s.targetHits !== undefined) v.targetHits = s.targetHits;
      return v;
    });
    const group: AggregateGroup = {
      dataset: first.dataset, model: first.model, threat: first.threat, attack: first.attack,
      eps: first.eps, epsUnits: first.epsUnits, split: first.split,
      ...summarize(perSeed.map((v) => v.accuracy)),
      perSeed,
    };
    if (first.source !== undefined) group.source = first.source;
    if (first.advUnits !== undefined) group.advUnits = first.advUnits;
    if (first.gradient !== undefined) group.gradient = first.gradient;
    // Target hits only mean something when every seed counted them.
    if (perSeed.every((v) => v.targetHits !== undefined)) {
      group.targetHitRate = summarize(perSeed.map((v) => (v.total > 0 ? (100 * v.targetHits!) / v.total : NaN)));
    }
    groups.push(group);
  }
  return groups.sort(compareGroups);
}

/** Result lines to sorted groups: sum shards per seed, then summarise across seeds. */
export function aggregate(results: readonly EvalResult[]): AggregateGroup[] {
  // A report aggregates the same results for several of its parts; at a million lines each pass counts.
  let groups = aggregated.get(results);
  if (!groups) aggregated.set(results, (groups = groupSeeds(sumShards(results))));
  return [...groups];
}

/** The groups of each results array already aggregated (results are not changed once read). */
const aggregated = new WeakMap<readonly EvalResult[], AggregateGroup[]>();
