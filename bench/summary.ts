/**
 * From the raw results of a run to the figures of the report: medians per
 * model and backend/peer, the ratios glance / peer, attack rates, scaling,
 * memory and the kernel ablation. Pure.
 */
import type { BackendName, ModelName } from '../src/experiments/types.js';
import { estimatePreset, type Estimate, type EstimateRates } from './estimate.js';
import { summarizeKernels, type KernelAblation } from './kernels.js';
import type { Machine } from './machine.js';
import { efficiency, ratio, summarize, type Summary } from './stats.js';
import type { AblationRun, ChildResult, PeerName, PeerResult, PoolPoint } from './types.js';

/** A rate: wall-clock samples/s and samples per process-CPU second, each summarized over repetitions. */
export interface Rate {
  wall: Summary;
  cpu?: Summary;
}

export type Column = BackendName | PeerName;

export interface Ratio {
  backend: BackendName;
  peer: PeerName;
  model: ModelName;
  /** glance / peer, medians of wall-clock rates; and of per-CPU-second rates. */
  wall?: number;
  cpu?: number;
}

export interface BenchSummary {
  /** One seed per training call (trainNet); the peers likewise. */
  train: Partial<Record<Column, Partial<Record<ModelName, Rate>>>>;
  attacks: Partial<Record<BackendName, Partial<Record<ModelName, Record<string, Rate & { images: number }>>>>>;
  ratios: Ratio[];
  memory: Partial<Record<BackendName, { baselineMB: number; peakMB: number; workerPeakMB: number }>>;
  pools: Partial<Record<BackendName, Partial<Record<ModelName, PoolPoint[]>>>>;
  /** The paper preset on the pool's workers at the measured efficiency (this machine, this load)... */
  estimates: Partial<Record<BackendName, Estimate | { missing: string[] }>>;
  /** ... and on as many free cores, at the efficiency per core used (at most 1): the code's own scaling. */
  estimatesFreeCores: Partial<Record<BackendName, Estimate | { missing: string[] }>>;
  /** What each fast kernel buys, per backend that ran the ablation. */
  kernels?: Partial<Record<BackendName, KernelAblation>>;
  /** Backends and peers that did not run, with the reason. */
  skipped: Array<{ what: string; reason: string }>;
  errors: Array<{ what: string; error: string }>;
}

export interface BenchResults {
  mode: 'quick' | 'full';
  /** Rounds of the one-worker training measurements (glance and peers), merged. */
  rounds: number;
  date: string;
  seconds: number;
  machine: Machine;
  /** When each phase started (seconds into the run) and the load averages (1, 5, 15 min) then; the last is the end. */
  load: Array<{ phase: string; at: number; loadavg: number[] }>;
  /** How single-worker runs and peers were pinned ('taskset -c 0', or 'not pinned: ...'). */
  pinning: string;
  /** What the plan left out. */
  notes: string[];
  single: ChildResult[];
  pool: ChildResult[];
  peers: PeerResult[];
  /** The kernel ablation's runs, per backend in the order they ran. */
  ablation?: AblationRun[];
  summary: BenchSummary;
  /** Wall times of real runs of the harness, added by hand from their run stores, to compare with the estimate. */
  measuredRuns?: Array<{ preset: string; backend: string; workers: number; jobs: number; wallMinutes: number; date: string; report: string; conditions: string }>;
}

const rate = (wall: number[], cpu?: number[]): Rate => ({ wall: summarize(wall), ...(cpu?.length ? { cpu: summarize(cpu) } : {}) });

export function summarizeRun(single: ChildResult[], pool: ChildResult[], peers: PeerResult[], workers: number, ablation: AblationRun[] = []): BenchSummary {
  const s: BenchSummary = { train: {}, attacks: {}, ratios: [], memory: {}, pools: {}, estimates: {}, estimatesFreeCores: {}, kernels: {}, skipped: [], errors: [] };
  for (const r of single) {
    if (r.state === 'skipped') {
      s.skipped.push({ what: `glance ${r.backend}`, reason: r.reason });
      continue;
    }
    if (r.mode !== 'single') continue;
    const train: Partial<Record<ModelName, Rate>> = (s.train[r.backend] = {});
    const attacks: Partial<Record<ModelName, Record<string, Rate & { images: number }>>> = (s.attacks[r.backend] = {});
    for (const m of r.measurements) {
      // Results written while the bench measured replicate packing hold packed training too: not one seed's rate.
      if (((m as { pack?: number }).pack ?? 1) > 1) continue;
      if (m.state === 'errored') {
        s.errors.push({ what: `glance ${r.backend} ${m.kind === 'train' ? 'training' : m.label} ${m.model}`, error: m.error });
        continue;
      }
      if (m.kind === 'train') train[m.model] = rate(m.perSec, m.perCpuSec);
      else (attacks[m.model] ??= {})[m.label] = { ...rate(m.perSec, m.perCpuSec), images: m.images };
    }
    s.memory[r.backend] = { baselineMB: r.baselineRssMB, peakMB: r.maxRssMB, workerPeakMB: r.maxRssMB - r.baselineRssMB };
  }
  for (const p of peers) {
    if (p.state === 'skipped') {
      s.skipped.push({ what: `peer ${p.peer}`, reason: p.reason });
      continue;
    }
    const train: Partial<Record<ModelName, Rate>> = (s.train[p.peer] = {});
    for (const [model, m] of Object.entries(p.models) as [ModelName, NonNullable<(typeof p.models)[ModelName]>][]) {
      if ('error' in m) s.errors.push({ what: `peer ${p.peer} training ${model}`, error: m.error });
      else train[model] = rate(m.samplesPerSec, m.cpuSamplesPerSec);
    }
  }
  for (const r of pool) {
    if (r.state === 'skipped') {
      s.skipped.push({ what: `glance ${r.backend} worker pool`, reason: r.reason });
      continue;
    }
    if (r.mode !== 'pool') continue;
    const byModel: Partial<Record<ModelName, PoolPoint[]>> = (s.pools[r.backend] ??= {});
    for (const run of r.runs) {
      if ('error' in run) {
        s.errors.push({ what: `glance ${r.backend} pool of ${r.workers} ${run.model}`, error: run.error });
        continue;
      }
      const points = (byModel[run.model] ??= []);
      const one = points.find((p) => p.workers === 1) ?? run;
      points.push({
        ...run,
        efficiency: efficiency(run.aggregate, run.workers, one.aggregate),
        cpuEfficiency: run.aggregate / run.coresUsed / (one.aggregate / one.coresUsed),
        peakRssPerWorkerMB: (r.maxRssMB - r.baselineRssMB) / run.workers,
      });
    }
  }
  for (const backend of ['node', 'wasm', 'cpu'] as BackendName[]) {
    const train = s.train[backend];
    if (!train) continue;
    for (const peer of ['pytorch', 'tensorflow', 'jax'] as PeerName[]) {
      const other = s.train[peer];
      if (!other) continue;
      for (const model of Object.keys(train) as ModelName[]) {
        const a = train[model];
        const b = other[model];
        if (!a || !b) continue;
        s.ratios.push({ backend, peer, model, wall: ratio(a.wall.median, b.wall.median), cpu: ratio(a.cpu?.median, b.cpu?.median) });
      }
    }
    const eff = poolEfficiency(s, backend, workers);
    s.estimates[backend] = estimatePreset(estimateRates(s, backend), workers, eff.efficiency);
    s.estimatesFreeCores[backend] = estimatePreset(estimateRates(s, backend), workers, Math.min(1, eff.cpuEfficiency));
  }
  for (const backend of [...new Set(ablation.map((r) => r.backend))]) {
    // Weighted by the estimate on free cores: the code's own scaling, not this run's other load.
    const preset = { rates: estimateRates(s, backend), workers, efficiency: Math.min(1, poolEfficiency(s, backend, workers).cpuEfficiency) };
    const k = summarizeKernels(backend, ablation, preset);
    if (k) s.kernels![backend] = k;
    for (const r of ablation.filter((x) => x.backend === backend)) {
      const what = `glance ${backend} kernel ablation (${r.config})`;
      if (r.result.state === 'skipped') s.errors.push({ what, error: r.result.reason });
      else if (r.result.mode === 'single') {
        for (const m of r.result.measurements) if (m.state === 'errored') s.errors.push({ what: `${what} training ${m.model}`, error: m.error });
      }
    }
  }
  return s;
}

function estimateRates(s: BenchSummary, backend: BackendName): EstimateRates {
  const train = Object.fromEntries(Object.entries(s.train[backend] ?? {}).map(([m, r]) => [m, r.wall.median]));
  const evalRates: EstimateRates['eval'] = {};
  for (const [model, labels] of Object.entries(s.attacks[backend] ?? {}) as [ModelName, Record<string, Rate>][]) {
    evalRates[model] = Object.fromEntries(Object.entries(labels).map(([l, r]) => [l, r.wall.median]));
  }
  return { train, eval: evalRates };
}

/** The measured efficiencies at `workers` for GlanceAgain (the dominant cost), else NormalNet, else 1. */
export function poolEfficiency(s: BenchSummary, backend: BackendName, workers: number): { efficiency: number; cpuEfficiency: number } {
  for (const model of ['GlanceAgain', 'NormalNet'] as ModelName[]) {
    const point = s.pools[backend]?.[model]?.find((p) => p.workers === workers);
    if (point) return point;
  }
  return { efficiency: 1, cpuEfficiency: 1 };
}
