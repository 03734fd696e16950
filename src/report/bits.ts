/**
 * Per-example correctness of one seed's evaluation, assembled from its shards'
 * bits (experiments/example-bits.ts), and the results split by the attack
 * gradient they were computed with. Paired tests and the worst case over an
 * attack ensemble need to know which images a model got right, not only how
 * many; results of older versions carry no bits and are left out of both.
 */
import { decodeBits } from '../experiments/example-bits.js';
import { GRADIENT_ATTACKS, type AttackGradient, type EvalResult } from '../experiments/types.js';
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
  const gradients = [...new Set(attacked.map(gradientOf))].sort();
  if (gradients.length === 0) return [{ gradient: 'stable', results: clean }];
  return gradients.map((gradient) => ({ gradient, results: [...clean, ...attacked.filter((r) => gradientOf(r) === gradient)] }));
}
