/**
 * Per-example correctness of one seed's evaluation, assembled from its shards'
 * bits (experiments/example-bits.ts), and the results split by the attack
 * gradient they were computed with. Paired tests and the worst case over an
 * attack ensemble need to know which images a model got right, not only how
 * many; results of older versions carry no bits and are left out of both.
 */
import { decodeBits } from '../experiments/example-bits.js';
import { ATTACK_GRADIENTS, GRADIENT_ATTACKS, type AttackGradient, type EvalResult } from '../experiments/types.js';
import { coordinateKey, type GroupCoordinates } from './shards.js';

/** Which images [start, end) of the split one seed's evaluation classified correctly (1 = correct). */
export interface SeedBits {
  start: number;
  end: number;
  bits: Uint8Array;
}

export const bitsKey = (c: GroupCoordinates, seed: number) => `${coordinateKey(c)}|seed=${seed}`;

/**
 * Every (coordinates, seed) whose shards all carry bits and together cover one
 * contiguous range; a repeated shard counts once (as in sumShards). Gaps or a
 * shard without bits leave the evaluation out.
 */
export function bitsBySeed(results: readonly EvalResult[]): Map<string, SeedBits> {
  const byKey = new Map<string, EvalResult[]>();
  for (const r of results) {
    const key = bitsKey(r, r.seed);
    const list = byKey.get(key);
    if (list) list.push(r);
    else byKey.set(key, [r]);
  }
  const out = new Map<string, SeedBits>();
  for (const [key, shards] of byKey) {
    if (shards.some((s) => s.correctBits === undefined)) continue;
    const sorted = [...shards].sort((a, b) => a.start - b.start || a.end - b.end);
    const kept = sorted.filter((s, i) => i === 0 || s.start !== sorted[i - 1].start || s.end !== sorted[i - 1].end);
    if (kept.some((s, i) => i > 0 && s.start !== kept[i - 1].end)) continue;
    const start = kept[0].start;
    const end = kept[kept.length - 1].end;
    const bits = new Uint8Array(end - start);
    for (const s of kept) bits.set(decodeBits(s.correctBits!, s.end - s.start), s.start - start);
    out.set(key, { start, end, bits });
  }
  return out;
}

/** Results older than the gradient field were computed with the float32 form. */
export const gradientOf = (r: EvalResult): AttackGradient => r.gradient ?? 'float32';

/**
 * The results split by attack gradient: one part per gradient the gradient
 * attacks used, each with every result that has no gradient (clean, random
 * noise, Square). No gradient attacks: one part, named by the default 'stable'.
 */
export function byGradient(results: readonly EvalResult[]): Array<{ gradient: AttackGradient; results: EvalResult[] }> {
  const clean = results.filter((r) => !GRADIENT_ATTACKS.includes(r.attack));
  const attacked = results.filter((r) => GRADIENT_ATTACKS.includes(r.attack));
  const gradients = ATTACK_GRADIENTS.filter((g) => attacked.some((r) => gradientOf(r) === g));
  if (gradients.length === 0) return [{ gradient: 'stable', results: clean }];
  return gradients.map((gradient) => ({ gradient, results: [...clean, ...attacked.filter((r) => gradientOf(r) === gradient)] }));
}

/** An item of one gradient part, with the other gradients that gave the same numbers. */
export type Merged<T> = T & { sameAs?: AttackGradient[] };

/** Every gradient an item stands for. */
export const gradientsOf = (t: { gradient?: AttackGradient; sameAs?: AttackGradient[] }): AttackGradient[] =>
  t.gradient === undefined ? [] : [t.gradient, ...(t.sameAs ?? [])];

/** 'stable', or 'stable = float32' when both gave the same numbers. */
export const gradientText = (t: { gradient?: AttackGradient; sameAs?: AttackGradient[] }): string => gradientsOf(t).join(' = ');

/**
 * Keeps one of the items that differ only in their gradient and have the same
 * numbers, listing the other gradients in sameAs: the report shows both
 * gradients only where they differ. `identity` names an item without its
 * gradient; the output keeps the order of first appearance, gradients in
 * ATTACK_GRADIENTS order (stable first).
 */
export function mergeGradients<T extends { gradient?: AttackGradient }>(
  items: readonly T[],
  identity: (t: T) => string,
  numbers: (t: T) => string,
): Array<Merged<T>> {
  const first = new Map<string, number>();
  const kept = new Map<string, Merged<T>>();
  const out: Array<Merged<T>> = [];
  items.forEach((t, i) => {
    const id = identity(t);
    if (!first.has(id)) first.set(id, i);
    if (t.gradient === undefined) {
      out.push(t);
      return;
    }
    const key = `${id}\u0000${numbers(t)}`;
    const same = kept.get(key);
    if (same) same.sameAs = [...(same.sameAs ?? []), t.gradient];
    else {
      const copy: Merged<T> = { ...t };
      kept.set(key, copy);
      out.push(copy);
    }
  });
  const rank = (t: T) => ATTACK_GRADIENTS.indexOf(t.gradient ?? 'stable');
  return out
    .map((t, i) => ({ t, i }))
    .sort((a, b) => first.get(identity(a.t))! - first.get(identity(b.t))! || rank(a.t) - rank(b.t) || a.i - b.i)
    .map((x) => x.t);
}
