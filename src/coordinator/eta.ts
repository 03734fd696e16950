/**
 * A whole-run ETA from measured throughput, not from the job count: a training
 * job is epochs x training images of work, an evaluation job its images times
 * the gradients its attack takes per image. Each kind of job (a model's
 * training, an attack on a model) gets its own rate, measured on the jobs of
 * that kind that finished (stored lines carry their seconds, so a resumed run
 * knows its rates) or, before one has, on the running job's progress; a kind
 * not measured yet borrows the pooled rate of the measured kinds of its sort
 * (training or evaluation). The remaining work at those rates, spread over the
 * workers, is the estimate. Pure: no I/O.
 */
import type { ExperimentConfig } from '../experiments/config.js';
import type { Job } from '../experiments/grid.js';

/** MNIST and Fashion-MNIST have 60,000 training images; a run with --train-limit uses fewer. */
const TRAIN_IMAGES = 60_000;

/** What a job's work is measured in: training samples, or evaluated images x gradients per image. */
export function workOf(job: Job, config: ExperimentConfig): number {
  if (job.kind === 'train') return config.train.epochs * Math.min(config.train.limit ?? TRAIN_IMAGES, TRAIN_IMAGES);
  const a = job.attack as string;
  const draws = a.startsWith('eot') ? config.eotSamples : 1;
  const steps = a.includes('pgd') ? config.pgd.steps : a === 'none' ? 0 : 1;
  // One forward pass per image, plus the gradient passes of the attack, per eps and unit.
  const perImage = 1 + steps * draws * (a.includes('pgd') ? job.eps.length : 1);
  return (job.end - job.start) * perImage;
}

export const kindOf = (job: Job) => (job.kind === 'train' ? `train/${job.model}` : `eval/${job.attack}/${job.model}/${job.source}`);

export interface Measured {
  work: number;
  seconds: number;
}

/** Work per second of each kind, from finished jobs (id -> seconds it took). */
export function ratesOf(jobs: readonly Job[], seconds: ReadonlyMap<string, number>, config: ExperimentConfig): Map<string, Measured> {
  const rates = new Map<string, Measured>();
  for (const j of jobs) {
    const s = seconds.get(j.id);
    if (s !== undefined) tallyRate(rates, j, s, config);
  }
  return rates;
}

/** Adds a finished job that took `seconds` to the rates of its kind (ratesOf, one job at a time). */
export function tallyRate(rates: Map<string, Measured>, job: Job, seconds: number, config: ExperimentConfig): void {
  if (!(seconds > 0)) return;
  const k = kindOf(job);
  const m = rates.get(k);
  if (m) {
    m.work += workOf(job, config);
    m.seconds += seconds;
  } else rates.set(k, { work: workOf(job, config), seconds });
}

export interface RunningJob {
  job: Job;
  /** 0..1 of the job done. */
  fraction: number;
  /** Seconds since it started. */
  elapsed: number;
}

/**
 * Seconds until every job in `left` (not done; running ones included) is done
 * on `workers` workers, or NaN while nothing has been measured.
 */
export function etaSeconds(left: readonly Job[], running: readonly RunningJob[], rates: ReadonlyMap<string, Measured>, config: ExperimentConfig, workers: number): number {
  const all = new Map(rates);
  // A running job measures its kind while none of that kind has finished.
  for (const r of running) {
    const k = kindOf(r.job);
    if (!all.has(k) && r.fraction > 0.02 && r.elapsed > 0) all.set(k, { work: workOf(r.job, config) * r.fraction, seconds: r.elapsed });
  }
  const pooled = (sort: string) => {
    let work = 0;
    let seconds = 0;
    for (const [k, m] of all) if (k.startsWith(sort)) ((work += m.work), (seconds += m.seconds));
    return seconds > 0 ? work / seconds : NaN;
  };
  const pool = { train: pooled('train/'), eval: pooled('eval/') };
  const rateOf = (job: Job) => {
    const m = all.get(kindOf(job));
    return m && m.seconds > 0 ? m.work / m.seconds : pool[job.kind];
  };
  const progress = new Map(running.map((r) => [r.job.id, r.fraction]));
  let total = 0;
  for (const job of left) {
    const rate = rateOf(job);
    if (!(rate > 0)) return NaN;
    total += (workOf(job, config) * (1 - (progress.get(job.id) ?? 0))) / rate;
  }
  return total / Math.max(1, Math.min(workers, left.length || 1));
}
