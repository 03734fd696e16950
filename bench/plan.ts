/**
 * What the bench measures, as data: `quick` (under two minutes, cpu backend
 * included, fewer and shorter repetitions, the expensive GlanceAgain PGD-40 left
 * out) and `full` (under twenty minutes); and the kernel ablation's runs.
 */
import type { AttackSpec } from '../src/attacks/attack.js';
import type { BackendName, ModelName } from '../src/experiments/types.js';
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
  /** The kernel ablation, per backend. */
  kernels: Partial<Record<BackendName, KernelPlan>>;
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

function attack(model: ModelName, label: keyof typeof ATTACKS, seconds: number, reps: number, maxBatches: number, trainImages = 1024): AttackTask {
  return { kind: 'attack', model, label, attack: ATTACKS[label], batchSize: EVAL_BATCH, seconds, reps, maxBatches, trainImages };
}

/**
 * AdvNet has NormalNet's architecture, so attacking it costs what attacking
 * NormalNet costs: attacks are measured on NormalNet and GlanceAgain.
 */
export function fullPlan(workers: number): BenchPlan {
  const tasks = (): Task[] => [
    ...MODELS.map((m) => train(m, 2.5, 4)),
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
    single: { node: tasks(), wasm: tasks() },
    pool: { node: pool(), wasm: pool() },
    poolWorkers: workers > 1 ? [1, workers] : [1],
    peers: { seconds: 2.5, reps: 4, warmupSeconds: 1 },
    rounds: 2,
    kernels: { node: FULL_KERNELS, wasm: FULL_KERNELS },
    notes: [],
  };
}

export function quickPlan(workers: number): BenchPlan {
  const tasks = (): Task[] => [
    ...MODELS.map((m) => train(m, 0.5, 3)),
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
      node: tasks(),
      wasm: tasks(),
      cpu: [...MODELS.map((m) => train(m, 0.4, 2, 1, 64)), attack('NormalNet', 'fgsm', 0.2, 1, 1, 256)],
    },
    pool: { node: [train('GlanceAgain', 0.7, 2)], wasm: [train('GlanceAgain', 0.7, 2)] },
    poolWorkers: workers > 1 ? [1, workers] : [1],
    peers: { seconds: 0.4, reps: 3, warmupSeconds: 0.2 },
    rounds: 1,
    kernels: { node: QUICK_KERNELS, wasm: QUICK_KERNELS },
    notes: [
      '--quick: repetitions of about 0.5 s (3 of them; 1-2 for attacks); PGD-40 on GlanceAgain is left out (one batch of 500 takes 10-30 s), ' +
        'the cpu backend only trains and runs FGSM on NormalNet, and only GlanceAgain is run on the worker pool; ' +
        'the kernel ablation runs one pass with every kernel on only at its start and end. Use the full run for figures to quote.',
    ],
  };
}

/** How a backend's kernel ablation runs: the training tasks of each run, and the order of its runs (kernelSequence). */
export interface KernelPlan {
  tasks: TrainTask[];
  /** Passes over the entries, alternating their order. */
  passes: number;
  /** An on run before every `onEvery` off runs (1: on, off, on, off, ...), and one at the end. */
  onEvery: number;
}

/** What one ablation run switches off (GLANCE_DISABLE_KERNELS); `on` disables nothing. */
export interface KernelEntry {
  label: string;
  disable: string[];
}

export const ON: KernelEntry = { label: 'on', disable: [] };
export const ALL_OFF: KernelEntry = { label: 'all off', disable: ['all'] };

const FULL_KERNELS: KernelPlan = {
  tasks: MODELS.map((m) => train(m, 0.6, 2, 4, WARMUP_IMAGES[m] / 2)),
  passes: 3,
  onEvery: 1,
};
const QUICK_KERNELS: KernelPlan = {
  tasks: MODELS.map((m) => train(m, 0.25, 1, 4, WARMUP_IMAGES[m] / 4)),
  passes: 1,
  onEvery: Infinity,
};

/**
 * Stock tfjs kernels a backend replaces with fixes of its own, by their
 * GLANCE_DISABLE_KERNELS names (src/backend/wasm/install.ts; 'Slice' also covers
 * SplitV and Unpack). The fast kernels of our ops are found in the worker instead.
 */
export const STOCK_FIXES: Partial<Record<BackendName, string[]>> = { wasm: ['BatchMatMul', 'Slice', 'Sum'] };

/**
 * The ablation's entries on a backend whose fast kernels of our ops are `fast`:
 * one per op (an op's gradient kernel, named op + 'Grad', goes with its op), one
 * per stock-kernel fix, and every one at once.
 */
export function kernelEntries(backend: BackendName, fast: readonly string[]): KernelEntry[] {
  const names = [...new Set(fast)].sort();
  const entries: KernelEntry[] = [];
  for (const n of names) {
    if (n.endsWith('Grad') && names.includes(n.slice(0, -'Grad'.length))) continue;
    const disable = names.includes(`${n}Grad`) ? [n, `${n}Grad`] : [n];
    entries.push({ label: disable.join(' + '), disable });
  }
  for (const n of STOCK_FIXES[backend] ?? []) entries.push({ label: n, disable: [n] });
  return entries.length ? [...entries, ALL_OFF] : [];
}

/**
 * The ablation's runs in order: per pass, an on run before every `onEvery` off
 * runs, the passes alternating the entries' order, and an on run at the end; so
 * every off run has on runs on both sides of it in time.
 */
export function kernelSequence(entries: readonly KernelEntry[], passes: number, onEvery: number): KernelEntry[] {
  const out: KernelEntry[] = [];
  for (let p = 0; p < passes; p++) {
    const order = p % 2 === 0 ? entries : [...entries].reverse();
    order.forEach((e, i) => {
      if (i % onEvery === 0 && out.at(-1) !== ON) out.push(ON);
      out.push(e);
    });
  }
  if (entries.length) out.push(ON);
  return out;
}
