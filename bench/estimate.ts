/**
 * The wall time of the paper preset (5 seeds x 15 epochs x 60,000 images of
 * training of NormalNet, GlanceAgain and an AdvNet per eps reading, then clean /
 * transfer / white-box FGSM and EOT-FGSM on the 10,000 test images in both eps
 * units; not the preset's added checks, PGD, EOT-PGD, noise, Square and the
 * float32 repeats, whose cost presets.ts gives) predicted from measured
 * throughputs. Pure: it walks the preset's real job grid (src/experiments/grid.ts),
 * one training job per trained model and seed.
 *
 * Costs per job, from one-worker rates:
 *  - train: epochs x images / training rate of the model;
 *  - clean: images / clean rate of the model;
 *  - one-step attack crafted on S, classified by T: images x (1/attack rate of S
 *    - 1/clean rate of S + 1/clean rate of T), since the measured attack rate is
 *    "gradient on S, then classify on S"; a job of several eps or units (one-step
 *    attacks cover both units) computes the gradient once and classifies per pair.
 * AdvNet's evaluation rates are NormalNet's (same architecture).
 * Wall time on W workers: max(total / (W x efficiency), the DAG's critical path);
 * the efficiency is the pool's, measured with training jobs.
 */
import { buildJobs, type Job } from '../src/experiments/grid.js';
import { PRESETS } from '../src/experiments/presets.js';
import type { AttackName, ModelName } from '../src/experiments/types.js';

export interface EstimateRates {
  /** Training samples/s at batch 64 on one worker. */
  train: Partial<Record<ModelName, number>>;
  /** Images/s on one worker at the evaluation batch: clean, fgsm, eot-fgsm-10, by model. */
  eval: Partial<Record<ModelName, Partial<Record<'clean' | 'fgsm' | 'eot-fgsm-10', number>>>>;
}

export interface Estimate {
  preset: string;
  jobs: number;
  /** Worker-seconds: all training jobs, all evaluation jobs. */
  trainSeconds: number;
  evalSeconds: number;
  /** The longest chain of dependent jobs, seconds. */
  criticalPathSeconds: number;
  workers: number;
  efficiency: number;
  wallSeconds: number;
  /** Rates the estimate needed but did not have (then it is undefined). */
  missing: string[];
}

const TEST_IMAGES = 10_000;
const TRAIN_IMAGES = 60_000;

const MEASURED: AttackName[] = ['fgsm', 'eot-fgsm'];

const evalModel = (m: ModelName): ModelName => (m === 'AdvNet' ? 'NormalNet' : m);

/** `trainingOnly`: the training jobs alone (no evaluation rates needed). */
export function estimatePreset(
  rates: EstimateRates,
  workers: number,
  efficiency: number,
  opts: { preset?: string; trainingOnly?: boolean } = {},
): Estimate | { missing: string[] } {
  const presetName = opts.preset ?? 'paper';
  // The measured set: FGSM and EOT-FGSM in one numerics. The preset's checks of the evaluation
  // (PGD, EOT-PGD, noise, Square, the float32 repeats) are costed in presets.ts instead.
  const preset = PRESETS[presetName];
  const config = { ...preset, attacks: preset.attacks.filter((a) => MEASURED.includes(a)), attackGradients: ['stable' as const] };
  const jobs = buildJobs(config, TEST_IMAGES).filter((j) => !opts.trainingOnly || j.kind === 'train');
  const missing = new Set<string>();
  const need = (v: number | undefined, what: string): number => {
    if (v === undefined || !(v > 0)) missing.add(what);
    return v ?? NaN;
  };
  const trainImages = Math.min(config.train.limit ?? TRAIN_IMAGES, TRAIN_IMAGES);
  const evalRate = (m: ModelName, label: 'clean' | 'fgsm' | 'eot-fgsm-10') =>
    need(rates.eval[evalModel(m)]?.[label], `${label} on ${evalModel(m)}`);

  const cost = (job: Job): number => {
    if (job.kind === 'train') return (config.train.epochs * trainImages) / need(rates.train[job.model], `training ${job.model}`);
    const n = job.end - job.start;
    if (job.attack === 'none') return n / evalRate(job.model, 'clean');
    const label = job.attack === 'fgsm' ? 'fgsm' : job.attack === 'eot-fgsm' ? 'eot-fgsm-10' : undefined;
    if (!label) {
      missing.add(`${job.attack} (not in the measured set)`);
      return NaN;
    }
    const gradient = 1 / evalRate(job.source, label) - 1 / evalRate(job.source, 'clean');
    // One gradient per image for every eps and unit of the job; one classification per (eps, unit).
    return n * (gradient + (job.eps.length * job.epsUnits.length) / evalRate(job.model, 'clean'));
  };

  const finish = new Map<string, number>();
  let trainSeconds = 0;
  let evalSeconds = 0;
  for (const job of jobs) {
    const c = cost(job);
    if (job.kind === 'train') trainSeconds += c;
    else evalSeconds += c;
    finish.set(job.id, Math.max(0, ...job.deps.map((d) => finish.get(d) ?? 0)) + c);
  }
  if (missing.size) return { missing: [...missing] };
  const criticalPathSeconds = Math.max(...finish.values());
  const total = trainSeconds + evalSeconds;
  const eff = workers > 1 ? efficiency : 1;
  return {
    preset: presetName,
    jobs: jobs.length,
    trainSeconds,
    evalSeconds,
    criticalPathSeconds,
    workers,
    efficiency: eff,
    wallSeconds: Math.max(total / (workers * eff), criticalPathSeconds),
    missing: [],
  };
}
