/**
 * Replicate packing in the job grid: with pack n > 1 the training jobs of each
 * model are chunks of n consecutive seeds (in config.seeds order), trained as one
 * batched computation. Packing paid off on the native backend only, and hardly
 * any more since the written-out MLP step (models/mlp-step.ts) and the fused Adam
 * took most per-kernel costs away: at 3 seeds 0.96x NormalNet, 1.09x AdvNet,
 * 1.01x GlanceAgain replicate-samples/s in the last full bench (bench/results.md;
 * before those, 1.80x, 1.89x, 1.05x); on wasm a pack trains about 4x slower than
 * its seeds one at a time. Pure.
 */
import type { ExperimentConfig, PackChoice } from './config.js';
import type { BackendName } from './types.js';

export const WASM_PACK_NOTE = 'packing seeds (--pack > 1) is slower than training one seed at a time on the wasm and cpu backends; --pack 1 is faster there';

/**
 * The number a run stores for --pack: 'auto' is ceil(#seeds / workers) on the
 * node backend (every worker gets one pack of each model) and 1 elsewhere; an
 * explicit n is kept. Either is capped at the number of seeds.
 */
export function resolvePack(choice: PackChoice, seeds: number, workers: number, backend: BackendName): number {
  const n = choice === 'auto' ? (backend === 'node' ? Math.ceil(seeds / Math.max(1, workers)) : 1) : choice;
  return Math.max(1, Math.min(n, seeds));
}

/** The pack size of a config; an unresolved 'auto' (a preset outside a run, e.g. an estimate) counts as 1. */
export const packSize = (config: Pick<ExperimentConfig, 'pack'>): number => (typeof config.pack === 'number' ? config.pack : 1);

/** config.seeds cut into chunks of the pack size, in order. */
export function seedChunks(config: Pick<ExperimentConfig, 'pack' | 'seeds'>): number[][] {
  const n = packSize(config);
  const out: number[][] = [];
  for (let i = 0; i < config.seeds.length; i += n) out.push(config.seeds.slice(i, i + n));
  return out;
}
