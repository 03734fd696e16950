/**
 * From the raw results of a run to the figures of the report: medians per
 * model and backend/peer, the ratios glance / peer, attack rates, scaling and
 * memory. Pure.
 */
import type { BackendName, ModelName } from '../src/experiments/types.js';
import { estimatePreset, type Estimate, type EstimateRates } from './estimate.js';
import type { Machine } from './machine.js';
import { efficiency, ratio, summarize, type Summary } from './stats.js';
import type { ChildResult, PeerName, PeerResult, PoolPoint } from './types.js';

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

/** Training of a pack of seeds as one computation: replicate-samples/s, and its ratio to one seed alone (same backend, same run). */
export interface PackedRate extends Rate {
  seeds: number;
  /** Packed / alone, medians of the wall-clock rates; and of the per-CPU-second rates. */
  ratio?: number;
  cpuRatio?: number;
}

export interface BenchSummary {
  /** One seed per training call (trainNet); the peers likewise. */
  train: Partial<Record<Column, Partial<Record<ModelName, Rate>>>>;
  /** Packed training (trainPacked), by pack size ascending; absent in results from before packing was measured. */
  packed?: Partial<Record<BackendName, Partial<Record<ModelName, PackedRate[]>>>>;
  attacks: Partial<Record<BackendName, Partial<Record<ModelName, Record<string, Rate & { images: number }>>>>>;
  ratios: Ratio[];
  memory: Partial<Record<BackendName, { baselineMB: number; peakMB: number; workerPeakMB: number }>>;
  pools: Partial<Record<BackendName, Partial<Record<ModelName, PoolPoint[]>>>>;
  /** The paper preset on the pool's workers at the measured efficiency (this machine, this load)... */
  estimates: Partial<Record<BackendName, Estimate | { missing: string[] }>>;
  /** ... and on as many free cores, at the efficiency per core used (at most 1): the code's own scaling. */
  estimatesFreeCores: Partial<Record<BackendName, Estimate | { missing: string[] }>>;
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
  summary: BenchSummary;
  /** Wall times of real runs of the harness, added by hand from their run stores, to compare with the estimate. */
  measuredRuns?: Array<{ preset: string; backend: string; workers: number; jobs: number; wallMinutes: number; date: string; report: string; conditions: string }>;
}

const rate = (wall: number[], cpu?: number[]): Rate => ({ wall: summarize(wall), ...(cpu?.length ? { cpu: summarize(cpu) } : {}) });

export function summarizeRun(single: ChildResult[], pool: ChildResult[], peers: PeerResult[], workers: number): BenchSummary {
  const s: BenchSummary = { train: {}, packed: {}, attacks: {}, ratios: [], memory: {}, pools: {}, estimates: {}, estimatesFreeCores: {}, skipped: [], errors: [] };
  for (const r of single) {
    if (r.state === 'skipped') {
      s.skipped.push({ what: `glance ${r.backend}`, reason: r.reason });
      continue;
    }
    if (r.mode !== 'single') continue;
    const train: Partial<Record<ModelName, Rate>> = (s.train[r.backend] = {});
    const attacks: Partial<Record<ModelName, Record<string, Rate & { images: number }>>> = (s.attacks[r.backend] = {});
    let workerPeak = 0;
    const packs: Array<{ model: ModelName; seeds: number; rate: Rate }> = [];
    for (const m of r.measurements) {
      if (m.state === 'errored') {
        const what = m.kind === 'train' ? `training${m.pack && m.pack > 1 ? ` (${m.pack} seeds packed)` : ''}` : m.label;
        s.errors.push({ what: `glance ${r.backend} ${what} ${m.model}`, error: m.error });
        continue;
      }
      workerPeak = Math.max(workerPeak, m.memory.rssMB);
      if (m.kind === 'train' && m.pack && m.pack > 1) packs.push({ model: m.model, seeds: m.pack, rate: rate(m.perSec, m.perCpuSec) });
      else if (m.kind === 'train') train[m.model] = rate(m.perSec, m.perCpuSec);
      else (attacks[m.model] ??= {})[m.label] = { ...rate(m.perSec, m.perCpuSec), images: m.images };
    }
    if (packs.length) {
      const byModel: Partial<Record<ModelName, PackedRate[]>> = (s.packed![r.backend] = {});
      for (const p of packs.sort((a, b) => a.seeds - b.seeds)) {
        const alone = train[p.model];
        (byModel[p.model] ??= []).push({
          ...p.rate,
          seeds: p.seeds,
          ratio: ratio(p.rate.wall.median, alone?.wall.median),
          cpuRatio: ratio(p.rate.cpu?.median, alone?.cpu?.median),
        });
      }
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
    s.estimates[backend] = estimatePreset(estimateRates(s, backend), workers, eff.efficiency, backend);
    s.estimatesFreeCores[backend] = estimatePreset(estimateRates(s, backend), workers, Math.min(1, eff.cpuEfficiency), backend);
  }
  return s;
}

function estimateRates(s: BenchSummary, backend: BackendName): EstimateRates {
  const train = Object.fromEntries(Object.entries(s.train[backend] ?? {}).map(([m, r]) => [m, r.wall.median]));
  const evalRates: EstimateRates['eval'] = {};
  for (const [model, labels] of Object.entries(s.attacks[backend] ?? {}) as [ModelName, Record<string, Rate>][]) {
    evalRates[model] = Object.fromEntries(Object.entries(labels).map(([l, r]) => [l, r.wall.median]));
  }
  const packed: EstimateRates['packed'] = {};
  for (const [model, rates] of Object.entries(s.packed?.[backend] ?? {}) as [ModelName, PackedRate[]][]) {
    packed[model] = Object.fromEntries(rates.map((r) => [r.seeds, r.wall.median]));
  }
  return { train, packed, eval: evalRates };
}

/** The measured efficiencies at `workers` for GlanceAgain (the dominant cost), else NormalNet, else 1. */
export function poolEfficiency(s: BenchSummary, backend: BackendName, workers: number): { efficiency: number; cpuEfficiency: number } {
  for (const model of ['GlanceAgain', 'NormalNet'] as ModelName[]) {
    const point = s.pools[backend]?.[model]?.find((p) => p.workers === workers);
    if (point) return point;
  }
  return { efficiency: 1, cpuEfficiency: 1 };
}
