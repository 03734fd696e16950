/**
 * The kernel ablation's figures: what each fast kernel buys. Each off run (some
 * kernels switched off with GLANCE_DISABLE_KERNELS) is compared with the on runs
 * nearest before and after it in time, model by model; the ratios then weight
 * the paper preset's estimate (bench/estimate.ts): every model's training rate
 * times its ratio, evaluation unchanged. Pure.
 */
import type { BackendName, ModelName } from '../src/experiments/types.js';
import { estimatePreset, type Estimate, type EstimateRates } from './estimate.js';
import { MODELS, STOCK_FIXES } from './plan.js';
import { median, ratio, summarize, type Summary } from './stats.js';
import type { AblationRun, ChildResult, KernelProbe } from './types.js';

export interface KernelRow {
  /** The entry switched off ('all off': every fast kernel). */
  label: string;
  disable: string[];
  /** Off runs that completed. */
  runs: number;
  /** Median training samples/s with the entry off / the same with every kernel on (the on runs next to the off runs), per model. */
  ratio: Partial<Record<ModelName, number>>;
  /** The preset's estimated wall time, seconds, with every kernel on and with this entry off, and the share of the latter the entry saves: 1 - on / off. */
  presetOn?: number;
  presetOff?: number;
  saved?: number;
  /** Set when the off runs' worker still had the kernel it was asked to switch off. */
  warning?: string;
}

export interface KernelAblation {
  /** Our ops with a fast kernel on this backend, as its workers registered them. */
  fast: string[];
  /** Training samples/s with every kernel on, over all on runs. */
  on: Partial<Record<ModelName, Summary>>;
  rows: KernelRow[];
  /** What the shares weigh: the whole preset, or its training jobs only when the run measured no evaluation rates. */
  basis: 'preset' | 'training';
  /** The workers and parallel efficiency of that estimate. */
  workers: number;
  efficiency: number;
  /** Child processes run, on and off. */
  processes: number;
}

type Single = Extract<ChildResult, { mode: 'single' }>;
const single = (r: ChildResult): Single | undefined => (r.state === 'completed' && r.mode === 'single' ? r : undefined);

function trainRates(runs: readonly Single[]): Partial<Record<ModelName, number[]>> {
  const out: Partial<Record<ModelName, number[]>> = {};
  for (const r of runs) {
    for (const m of r.measurements) if (m.state === 'completed' && m.kind === 'train') (out[m.model] ??= []).push(...m.perSec);
  }
  return out;
}

/** The kernels a run was asked to switch off that its worker still had (same kernel function as with every kernel on). */
function unchanged(backend: BackendName, on: KernelProbe, off: KernelProbe, disable: readonly string[]): string[] {
  const names = disable.includes('all') ? [...on.fast, ...(STOCK_FIXES[backend] ?? [])] : disable;
  return names.filter((n) => on.fingerprints[n] !== undefined && on.fingerprints[n] === off.fingerprints[n]);
}

/**
 * One backend's ablation, from its runs in the order they ran. `preset`: the rates
 * (the one-worker measurements of the same run; a model without one takes the
 * ablation's on rate), workers and efficiency of the preset's estimate.
 */
export function summarizeKernels(
  backend: BackendName,
  runs: readonly AblationRun[],
  preset: { rates: EstimateRates; workers: number; efficiency: number },
): KernelAblation | undefined {
  const seq = runs.filter((r) => r.backend === backend);
  const onIdx = seq.flatMap((r, i) => (r.disable.length === 0 && single(r.result) ? [i] : []));
  if (!onIdx.length) return undefined;
  const onRuns = onIdx.map((i) => single(seq[i].result)!);
  const onRates = trainRates(onRuns);
  const on = Object.fromEntries(MODELS.flatMap((m) => (onRates[m]?.length ? [[m, summarize(onRates[m]!)]] : [])));
  const probe = onRuns.find((r) => r.kernels)?.kernels;

  const rates: EstimateRates = { ...preset.rates, train: { ...Object.fromEntries(MODELS.flatMap((m) => (on[m] ? [[m, on[m].median]] : []))), ...preset.rates.train } };
  let basis: KernelAblation['basis'] = 'preset';
  let estimate = estimatePreset(rates, preset.workers, preset.efficiency);
  if ('missing' in estimate && estimate.missing.length) {
    basis = 'training';
    estimate = estimatePreset(rates, preset.workers, preset.efficiency, { trainingOnly: true });
  }
  const presetOn = 'missing' in estimate && estimate.missing.length ? undefined : (estimate as Estimate).wallSeconds;

  const labels = [...new Set(seq.filter((r) => r.disable.length).map((r) => r.config))];
  const rows = labels.map((label): KernelRow => {
    const idx = seq.flatMap((r, i) => (r.config === label ? [i] : []));
    const disable = seq[idx[0]].disable;
    const offRuns = idx.flatMap((i) => (single(seq[i].result) ? [single(seq[i].result)!] : []));
    // The on runs nearest before and after each off run.
    const near = new Set(idx.flatMap((i) => [onIdx.filter((j) => j < i).at(-1), onIdx.find((j) => j > i)].filter((j): j is number => j !== undefined)));
    const base = trainRates([...near].map((j) => single(seq[j].result)!));
    const offRates = trainRates(offRuns);
    const r: Partial<Record<ModelName, number>> = {};
    for (const m of MODELS) {
      const x = offRates[m]?.length && base[m]?.length ? ratio(median(offRates[m]!), median(base[m]!)) : undefined;
      if (x !== undefined) r[m] = x;
    }
    const row: KernelRow = { label, disable, runs: offRuns.length, ratio: r };
    const stale = probe ? [...new Set(offRuns.flatMap((o) => (o.kernels ? unchanged(backend, probe, o.kernels, disable) : [])))] : [];
    if (stale.length) row.warning = `GLANCE_DISABLE_KERNELS=${disable.join(',')} left ${stale.join(', ')} as with every kernel on`;
    if (presetOn !== undefined && MODELS.every((m) => r[m] !== undefined && rates.train[m] !== undefined)) {
      const slower = Object.fromEntries(MODELS.map((m) => [m, rates.train[m]! * r[m]!]));
      const off = estimatePreset({ ...rates, train: slower }, preset.workers, preset.efficiency, { trainingOnly: basis === 'training' });
      if (!('missing' in off && off.missing.length)) {
        row.presetOn = presetOn;
        row.presetOff = (off as Estimate).wallSeconds;
        row.saved = 1 - presetOn / row.presetOff;
      }
    }
    return row;
  });
  return { fast: probe?.fast ?? [], on, rows, basis, workers: preset.workers, efficiency: preset.efficiency, processes: seq.length };
}
