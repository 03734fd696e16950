/**
 * Shard summation: the coordinator splits one evaluation (one model, seed,
 * threat, attack, eps) over slices [start, end) of the split, and each slice is
 * a result line of its own. Counts add exactly, so the per-seed accuracy is
 * computed once from summed integers rather than averaged from slice accuracies
 * (which would weight a short last slice like a full one).
 */
import type { BackendInfo, EvalResult } from '../experiments/types.js';

/** The coordinates of an aggregated group: everything that identifies a result except seed and shard. */
export type GroupCoordinates = Pick<EvalResult, 'dataset' | 'model' | 'threat' | 'attack' | 'source' | 'advUnits' | 'gradient' | 'eps' | 'epsUnits' | 'split'>;

/** One seed's evaluation, all of its shards summed. */
export interface SeedResult extends GroupCoordinates {
  seed: number;
  correct: number;
  total: number;
  targetHits?: number;
  /** 100 * correct / total; NaN when total is 0. */
  accuracy: number;
  /** How many distinct shards were summed. */
  shards: number;
  /** The distinct backends that produced the shards, usually one. */
  backends: BackendInfo[];
  /** The attack as run (its first shard's record); absent for clean results and results of an older glance. */
  attackParams?: EvalResult['attackParams'];
}

/** Two shards of one evaluation cover some of the same samples with different ranges: their counts cannot be added. */
export class ShardOverlapError extends Error {
  constructor(
    readonly key: string,
    readonly a: [number, number],
    readonly b: [number, number],
  ) {
    super(`overlapping shards [${a[0]}, ${a[1]}) and [${b[0]}, ${b[1]}) for ${key}; ` +
      'the store mixes two different shardings of the same evaluation: keep one of them');
    this.name = 'ShardOverlapError';
  }
}

/**
 * A stable string key of the coordinates; `source` (or `advUnits`, `gradient`) absent and '' are the same.
 * The gradient is a coordinate: a run with both gradients has two results per slice, not a duplicate.
 */
export function coordinateKey(c: GroupCoordinates): string {
  return [c.dataset, c.model, c.threat, c.attack, c.source ?? '', c.eps, c.epsUnits, c.split, c.advUnits ?? '', c.gradient ?? ''].join('|');
}

export function pickCoordinates(r: GroupCoordinates): GroupCoordinates {
  const c: GroupCoordinates = {
    dataset: r.dataset, model: r.model, threat: r.threat, attack: r.attack,
    eps: r.eps, epsUnits: r.epsUnits, split: r.split,
  };
  if (r.source !== undefined) c.source = r.source;
  if (r.advUnits !== undefined) c.advUnits = r.advUnits;
  if (r.gradient !== undefined) c.gradient = r.gradient;
  return c;
}

function sameBackend(a: BackendInfo, b: BackendInfo): boolean {
  return a.name === b.name && a.tfjs === b.tfjs && a.tensorflow === b.tensorflow;
}

/**
 * Sums the shards of every (coordinates, seed). The same [start, end) twice is
 * a duplicate (a resumed or merged store wrote it again) and is counted once:
 * the first line in input order wins. Different ranges that overlap throw
 * ShardOverlapError. Output order follows first appearance in the input.
 */
export function sumShards(results: readonly EvalResult[]): SeedResult[] {
  const bySeed = new Map<string, EvalResult[]>();
  for (const r of results) {
    const key = `${coordinateKey(r)}|seed=${r.seed}`;
    const list = bySeed.get(key);
    if (list) list.push(r);
    else bySeed.set(key, [r]);
  }
  const out: SeedResult[] = [];
  for (const [key, shards] of bySeed) {
    // A stable sort keeps the first of two identical ranges first.
    const sorted = [...shards].sort((a, b) => a.start - b.start || a.end - b.end);
    const kept: EvalResult[] = [];
    for (const s of sorted) {
      const prev = kept[kept.length - 1];
      if (prev && prev.start === s.start && prev.end === s.end) continue;
      if (prev && s.start < prev.end) throw new ShardOverlapError(key, [prev.start, prev.end], [s.start, s.end]);
      kept.push(s);
    }
    const first = shards[0];
    let correct = 0;
    let total = 0;
    let targetHits: number | undefined;
    const backends: BackendInfo[] = [];
    for (const s of kept) {
      correct += s.correct;
      total += s.total;
      if (s.targetHits !== undefined) targetHits = (targetHits ?? 0) + s.targetHits;
      if (!backends.some((b) => sameBackend(b, s.backend))) backends.push(s.backend);
    }
    const seedResult: SeedResult = {
      ...pickCoordinates(first),
      seed: first.seed,
      correct,
      total,
      accuracy: total > 0 ? (100 * correct) / total : NaN,
      shards: kept.length,
      backends,
    };
    if (targetHits !== undefined) seedResult.targetHits = targetHits;
    if (first.attackParams !== undefined) seedResult.attackParams = first.attackParams;
    out.push(seedResult);
  }
  return out;
}
