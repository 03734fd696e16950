/**
 * The job DAG of an experiment. Training jobs come first (GlanceAgain's frozen or
 * fine-tuned base layer depends on NormalNet of its seed); evaluation jobs depend
 * on the models they attack and classify. Each evaluation job covers every eps of
 * one (model, seed, threat, attack, units, slice), so a sweep shares its work.
 * Ids are stable strings of the grid coordinates: the same config always gives
 * the same jobs, which is what resume and --shard rely on.
 */
import type { ExperimentConfig } from './config.js';
import type { AttackName, EpsUnits, ModelName, ThreatModel } from './types.js';

export interface TrainJob {
  kind: 'train';
  id: string;
  model: ModelName;
  seed: number;
  deps: string[];
}

export interface EvalJob {
  kind: 'eval';
  id: string;
  model: ModelName;
  seed: number;
  threat: ThreatModel;
  attack: AttackName;
  /** The model the attack is crafted on. */
  source: ModelName;
  eps: number[];
  epsUnits: EpsUnits;
  start: number;
  end: number;
  deps: string[];
}

export type Job = TrainJob | EvalJob;

export const trainId = (model: ModelName, seed: number) => `train/${model}/seed${seed}`;

/** Attacks that only make sense against a randomised model (averaging over its transform draws). */
const EOT: AttackName[] = ['eot-fgsm', 'eot-pgd'];

/** The size of the evaluation split in images, before any limit. */
export function buildJobs(config: ExperimentConfig, splitSize: number): Job[] {
  const jobs: Job[] = [];
  for (const seed of config.seeds) {
    for (const model of config.models) {
      const needsNormal = model === 'GlanceAgain' && config.glance.baseLayer !== 'scratch';
      jobs.push({ kind: 'train', id: trainId(model, seed), model, seed, deps: needsNormal ? [trainId('NormalNet', seed)] : [] });
    }
  }
  const count = Math.min(config.eval.limit ?? splitSize, splitSize);
  const shards = Math.min(config.eval.shards, count);
  const slices = Array.from({ length: shards }, (_, i) => [Math.floor((i * count) / shards), Math.floor(((i + 1) * count) / shards)]);
  for (const seed of config.seeds) {
    for (const model of config.models) {
      const cells: Array<{ threat: ThreatModel; attack: AttackName; source: ModelName; eps: number[]; units: EpsUnits }> = [
        { threat: 'clean', attack: 'none', source: model, eps: [0], units: 'pixel' },
      ];
      for (const units of config.epsUnits) {
        for (const threat of config.threats) {
          const source = threat === 'transfer' ? config.transferSource : model;
          for (const attack of config.attacks) {
            // EOT averages over the source's randomness: only a randomised source has any.
            if (EOT.includes(attack) && source !== 'GlanceAgain') continue;
            cells.push({ threat, attack, source, eps: config.eps, units });
          }
        }
      }
      for (const c of cells) {
        for (const [start, end] of slices) {
          const deps = [...new Set([trainId(model, seed), trainId(c.source, seed)])];
          jobs.push({
            kind: 'eval',
            id: `eval/${model}/seed${seed}/${c.threat}/${c.attack}/${c.source}/${c.units}/${config.eval.split}${start}-${end}`,
            model,
            seed,
            threat: c.threat,
            attack: c.attack,
            source: c.source,
            eps: c.eps,
            epsUnits: c.units,
            start,
            end,
            deps,
          });
        }
      }
    }
  }
  return jobs;
}

/**
 * The deterministic slice of the grid for --shard i/n: every n-th (model, seed)
 * group, with the training jobs it needs (a dependency from another shard's group
 * is retrained here, so array jobs never wait on each other).
 */
export function shardJobs(jobs: Job[], shard: { index: number; count: number }): Job[] {
  const groups = [...new Set(jobs.map((j) => `${j.model}/${j.seed}`))];
  const mine = new Set(groups.filter((_, i) => i % shard.count === shard.index - 1));
  const selected = jobs.filter((j) => mine.has(`${j.model}/${j.seed}`));
  const byId = new Map(jobs.map((j) => [j.id, j]));
  const need = new Set(selected.map((j) => j.id));
  const stack = [...selected];
  while (stack.length) {
    for (const d of stack.pop()!.deps) {
      if (!need.has(d)) {
        need.add(d);
        stack.push(byId.get(d)!);
      }
    }
  }
  return jobs.filter((j) => need.has(j.id));
}
