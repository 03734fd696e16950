/**
 * What the bench measures, as data: `quick` (under two minutes, cpu backend
 * included, fewer and shorter repetitions, the expensive GlanceAgain PGD-40 left
 * out, packed training with the largest pack only) and `full` (under twenty
 * minutes). Packed training (seeds of one model as one computation, as runs do
 * with --pack auto) is measured on node only, with the pack sizes the paper
 * preset resolves to on this machine's worker count.
 */
import type { AttackSpec } from '../src/attacks/attack.js';
import type { BackendName, ModelName } from '../src/experiments/types.js';
import { presetPacks } from './estimate.js';
import type { AttackTask, Task, TrainTask } from './types.js';

export const MODELS: readonly ModelName[] = ['NormalNet', 'AdvNet', 'GlanceAgain'];
export const TRAIN_BATCH = 64;
export const EVAL_BATCH = 500;
export const EPS = 0.3;

export interface PeerPlan {
  /** Target seconds per repetition, repetitions, warm-up seconds (after the compiling first steps). */
  seconds: number;
  reps: number;
  warmupSeconds: number;
}

export interface BenchPlan {
  name: 'quick' | 'full';
  /** Backends measured on one worker (each in its own process and thread). */
  backends: BackendName[];
  single: Partial<Record<BackendName, Task[]>>;
  /** Backends and training jobs run on 1 and on `poolWorkers` workers at once. */
  pool: Partial<Record<BackendName, TrainTask[]>>;
  poolWorkers: number[];
  peers: PeerPlan;
  /** Rounds of glance's and the peers' one-worker measurements; rounds after the first repeat the training only. */
  rounds: number;
  /** What this plan leaves out, for the report. */
  notes: string[];
}

export const ATTACKS: Record<string, AttackSpec> = {
  clean: { name: 'none', eps: 0, units: 'pixel' },
  fgsm: { name: 'fgsm', eps: EPS, units: 'pixel' },
  'eot-fgsm-10': { name: 'eot-fgsm', eps: EPS, units: 'pixel', eotSamples: 10 },
  'pgd-40': { name: 'pgd', eps: EPS, units: 'pixel', steps: 40 },
};

const WARMUP_IMAGES: Record<ModelName, number> = { NormalNet: 2048, AdvNet: 1024, GlanceAgain: 256 };

function train(model: ModelName, seconds: number, reps: number, minBatches = 4, warmupImages = WARMUP_IMAGES[model]): TrainTask {
  return { kind: 'train', model, batchSize: TRAIN_BATCH, seconds, reps, minBatches, warmupImages };
}

/**
 * The pack sizes the paper preset trains on `workers` workers of the node backend
 * (--pack auto: packs of 3 and 2 seeds on 2 workers), largest first.
 */
export function nodePackSizes(workers: number): number[] {
  return [...new Set(presetPacks(workers, 'node').filter((n) => n > 1))].sort((a, b) => b - a);
}

/** Packed training of every model, after the one-seed training (node only: on wasm a pack is ~4x slower, so runs do not pack there). */
function packed(sizes: number[], seconds: number, reps: number): TrainTask[] {
  return sizes.flatMap((pack) => MODELS.map((m) => ({ ...train(m, seconds, reps), pack })));
}

function attack(model: ModelName, label: keyof typeof ATTACKS, seconds: number, reps: number, maxBatches: number, trainImages = 1024): AttackTask {
  return { kind: 'attack', model, label, attack: ATTACKS[label], batchSize: EVAL_BATCH, seconds, reps, maxBatches, trainImages };
}

/**
 * AdvNet has NormalNet's architecture, so attacking it costs what attacking
 * NormalNet costs: attacks are measured on NormalNet and GlanceAgain.
 */
export function fullPlan(workers: number): BenchPlan {
  const tasks = (packs: number[] = []): Task[] => [
    ...MODELS.map((m) => train(m, 2.5, 4)),
    ...packed(packs, 2.5, 4),
    attack('NormalNet', 'clean', 1, 3, 20),
    attack('NormalNet', 'fgsm', 2, 3, 20),
    attack('NormalNet', 'pgd-40', 2, 3, 20),
    attack('GlanceAgain', 'clean', 1, 3, 20),
    attack('GlanceAgain', 'fgsm', 2, 3, 20),
    attack('GlanceAgain', 'eot-fgsm-10', 2, 3, 20),
    attack('GlanceAgain', 'pgd-40', 2, 3, 20),
  ];
  const pool = (): TrainTask[] => [train('NormalNet', 3, 3), train('GlanceAgain', 3, 3)];
  return {
    name: 'full',
    backends: ['node', 'wasm'],
    single: { node: tasks(nodePackSizes(workers)), wasm: tasks() },
    pool: { node: pool(), wasm: pool() },
    poolWorkers: workers > 1 ? [1, workers] : [1],
    peers: { seconds: 2.5, reps: 4, warmupSeconds: 1 },
    rounds: 2,
    notes: [],
  };
}

export function quickPlan(workers: number): BenchPlan {
  const packs = nodePackSizes(workers).slice(0, 1);
  const tasks = (withPacks = false): Task[] => [
    ...MODELS.map((m) => train(m, 0.5, 3)),
    ...(withPacks ? packed(packs, 0.5, 2) : []),
    attack('NormalNet', 'clean', 0.2, 2, 4),
    attack('NormalNet', 'fgsm', 0.3, 2, 4),
    attack('NormalNet', 'pgd-40', 0.3, 1, 1),
    attack('GlanceAgain', 'clean', 0.2, 2, 2),
    attack('GlanceAgain', 'fgsm', 0.3, 2, 1),
    attack('GlanceAgain', 'eot-fgsm-10', 0.3, 1, 1),
  ];
  return {
    name: 'quick',
    backends: ['node', 'wasm', 'cpu'],
    single: {
      node: tasks(true),
      wasm: tasks(),
      cpu: [...MODELS.map((m) => train(m, 0.4, 2, 1, 64)), attack('NormalNet', 'fgsm', 0.2, 1, 1, 256)],
    },
    pool: { node: [train('GlanceAgain', 0.7, 2)], wasm: [train('GlanceAgain', 0.7, 2)] },
    poolWorkers: workers > 1 ? [1, workers] : [1],
    peers: { seconds: 0.4, reps: 3, warmupSeconds: 0.2 },
    rounds: 1,
    notes: [
      '--quick: repetitions of about 0.5 s (3 of them; 1-2 for attacks); PGD-40 on GlanceAgain is left out (one batch of 500 takes 10-30 s), ' +
        'the cpu backend only trains and runs FGSM on NormalNet, and only GlanceAgain is run on the worker pool. ' +
        `Packed training is measured with ${packs.length ? `packs of ${packs[0]} seeds only` : 'no packs'} (the estimate costs other pack sizes at the one-seed rate). Use the full run for figures to quote.`,
    ],
  };
}
