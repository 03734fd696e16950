/**
 * The job DAG of an experiment. A training job trains one model of one seed
 * (`train/<model>/seed<n>`; AdvNet once per eps reading, `train/AdvNet@normalized/seed<n>`,
 * evaluated in that reading only: readings.ts); a model whose base layer comes from another model
 * (the models table: GlanceAgain's frozen or fine-tuned base from NormalNet)
 * depends on that model's job of the same seed. Evaluation jobs depend on the
 * models they attack and classify. Each evaluation job covers every eps of one
 * (model, seed, threat, attack, slice) and, for one-step attacks, every eps unit
 * too (`.../pixel+normalized/...`), so a sweep shares its work.
 * Ids are stable strings of the grid coordinates and nothing else (not the
 * number of workers): the same config always gives the same jobs, which is what
 * resume, --shard and merge rely on.
 */
import type { ExperimentConfig } from './config.js';
import { baseSource, isRandomized, netSpec } from './models.js';
import { advTrainings, isAdversarial, readingTag, type AdvTraining } from './readings.js';
import { GRADIENT_ATTACKS, type AttackGradient, type AttackName, type EpsUnits, type ModelName, type ThreatModel } from './types.js';

export interface TrainJob {
  kind: 'train';
  id: string;
  model: ModelName;
  seed: number;
  /** AdvNet: the units of its training eps (its reading); its id and checkpoint carry them (readings.ts). */
  advUnits?: EpsUnits;
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
  /** When AdvNet is the model or the source: the units it was trained in (its reading). */
  advUnits?: EpsUnits;
  eps: number[];
  /** One-step attacks cover every unit of the run in one job (they share the gradient); others one unit. */
  epsUnits: EpsUnits[];
  /** Gradient attacks: how the loss gradient is computed (attacks/loss.ts); the id carries it. */
  gradient?: AttackGradient;
  start: number;
  end: number;
  deps: string[];
}

export type Job = TrainJob | EvalJob;

/** `advUnits`: AdvNet's reading, which its id carries ('train/AdvNet@normalized/seed1'; readings.ts). */
export const trainId = (model: ModelName, seed: number, advUnits?: EpsUnits) => ['train', model + readingTag(model, advUnits), `seed${seed}`].join('/');

/** Attacks that only make sense against a randomised model (averaging over its transform draws). */
const EOT: AttackName[] = ['eot-fgsm', 'eot-pgd'];

/**
 * One-step attacks: every eps and unit is the same gradient (for EOT the same K
 * draws) scaled differently, so one job evaluates them all (attacks/evaluate.ts
 * shares the gradient). Iterative attacks get a job per unit.
 */
const ONE_STEP: AttackName[] = ['fgsm', 'fgsm-targeted', 'eot-fgsm', 'noise'];

/**
 * Attacks of the attacked model alone: 'noise' ignores any source and Square
 * queries the model's own scores, so they run under the white-box threat only.
 */
const OWN_MODEL: AttackName[] = ['noise', 'square'];

/** Every job of the experiment's grid, in order (`splitSize`: the evaluation split's size in images, before any limit). */
export function buildJobs(config: ExperimentConfig, splitSize: number): Job[] {
  const jobs: Job[] = [];
  forEachJob(config, splitSize, (j) => jobs.push(j));
  return jobs;
}

/**
 * Visits the jobs buildJobs returns, in the same order, one at a time: a reader
 * that keeps only some of them (glance status keeps the jobs left) does not hold
 * the whole grid in memory.
 */
export function forEachJob(config: ExperimentConfig, splitSize: number, visit: (job: Job) => void): void {
  const trainings = advTrainings(config);
  // A model as trained: AdvNet once per reading, the others once.
  const trainedAs = (model: ModelName): Array<AdvTraining | undefined> => (isAdversarial(model) ? trainings : [undefined]);
  for (const seed of config.seeds) {
    for (const model of config.models) {
      const base = baseSource(netSpec(model, config));
      for (const adv of trainedAs(model)) {
        const advUnits = adv && !adv.legacy ? adv.units : undefined;
        visit({ kind: 'train', id: trainId(model, seed, advUnits), model, seed, ...(advUnits ? { advUnits } : {}), deps: base ? [trainId(base, seed)] : [] });
      }
    }
  }
  const count = Math.min(config.eval.limit ?? splitSize, splitSize);
  const shards = Math.min(config.eval.shards, count);
  const cut = (count: number, shards: number) =>
    Array.from({ length: shards }, (_, i) => [Math.floor((i * count) / shards), Math.floor(((i + 1) * count) / shards)]);
  const slices = cut(count, shards);
  // An attack with its own example limit is evaluated on the first n images, in as many shards as fit.
  const slicesByAttack = new Map(
    [...config.attacks, 'none' as const].map((attack) => {
      const limit = config.attackLimits?.[attack];
      return [attack, limit === undefined || limit >= count ? slices : cut(limit, Math.min(shards, limit))] as const;
    }),
  );
  // A config of an older glance names no attack gradients (its results are float32): its ids carry none.
  const gradientsOf = (attack: AttackName): Array<AttackGradient | undefined> =>
    GRADIENT_ATTACKS.includes(attack) && config.attackGradients ? config.attackGradients : [undefined];
  type Cell = { threat: ThreatModel; attack: AttackName; source: ModelName; adv?: AdvTraining; eps: number[]; units: EpsUnits[]; gradient?: AttackGradient };
  // Jobs of one cell share its eps, units and deps arrays (read-only): a grid of 100,000 jobs is one allocation per job and its id.
  for (const seed of config.seeds) {
    for (const model of config.models) {
      for (const own of trainedAs(model)) {
        // Clean accuracy has no eps; an AdvNet of one reading records its reading.
        const cells: Cell[] = [{ threat: 'clean', attack: 'none', source: model, adv: own, eps: [0], units: own && !own.legacy ? own.readings : ['pixel'] }];
        for (const threat of config.threats) {
          const source = threat === 'transfer' ? config.transferSource : model;
          // The AdvNet this cell involves (as the model or the source), one cell per reading.
          const advs = own ? [own] : isAdversarial(source) ? trainings : [undefined];
          for (const attack of config.attacks) {
            // EOT averages over the source's randomness: only a randomised source has any.
            if (EOT.includes(attack) && !isRandomized(source)) continue;
            if (OWN_MODEL.includes(attack) && threat !== 'white-box') continue;
            for (const adv of advs) {
              const units = adv ? adv.readings : config.epsUnits;
              const groups = ONE_STEP.includes(attack) ? [units] : units.map((u) => [u]);
              for (const g of groups) {
                for (const gradient of gradientsOf(attack)) cells.push({ threat, attack, source, adv, eps: config.eps, units: g, ...(gradient ? { gradient } : {}) });
              }
            }
          }
        }
        for (const c of cells) {
          const advUnits = c.adv && !c.adv.legacy ? c.adv.units : undefined;
          const [modelAs, sourceAs] = [`${model}${readingTag(model, advUnits)}`, `${c.source}${readingTag(c.source, advUnits)}`];
          const [modelId, sourceId] = [trainId(model, seed, advUnits), trainId(c.source, seed, advUnits)];
          const deps = modelId === sourceId ? [modelId] : [modelId, sourceId];
          const path = ['eval', modelAs, `seed${seed}`, c.threat, c.attack, sourceAs, c.units.join('+'), ...(c.gradient ? [c.gradient] : []), ''];
          for (const [start, end] of slicesByAttack.get(c.attack) ?? slices) {
            // join() makes one flat string: a template literal's chain of concatenations would stay in memory with each id.
            path[path.length - 1] = `${config.eval.split}${start}-${end}`;
            const job: EvalJob = { kind: 'eval', id: path.join('/'), model, seed, threat: c.threat, attack: c.attack, source: c.source, eps: c.eps, epsUnits: c.units, start, end, deps };
            if (advUnits) job.advUnits = advUnits;
            if (c.gradient) job.gradient = c.gradient;
            visit(job);
          }
        }
      }
    }
  }
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
