/**
 * What a run's store holds of its grid, from one pass over each: the store's
 * lines are streamed as summaries (store-lines.ts) and the grid's jobs visited
 * one at a time (forEachJob), and only what the answer needs is kept (the done
 * jobs' seconds, the errored lines, the jobs left). At 100,000 jobs, holding the
 * whole grid and every line costs more than reading them, most of it in the
 * garbage collector. `glance status` shows a tally; a resume decides from one
 * that it has nothing left to do (open-run.ts).
 */
import type { ExperimentConfig } from '../experiments/config.js';
import type { Job, TrainJob } from '../experiments/grid.js';
import { tallyRate, type Measured } from './eta.js';
import { forEachJobOfRun, type RunMeta } from './meta.js';
import type { LineSummary } from './store-lines.js';
import type { RunStore } from './store.js';

export interface RunTally {
  /** Jobs of the run (its --shard slice and --stage), by kind. */
  ofKind: { train: number; eval: number };
  doneOfKind: { train: number; eval: number };
  /** Every stored done line's job id and the seconds it took (NaN when a line of an older glance has none). */
  seconds: Map<string, number>;
  /** Every stored job id whose last line is an error, and that line. */
  erroredLines: Map<string, LineSummary>;
  /** With `train`: the done trainings' lines with their checkpoint names (whole records where a model was reused). */
  trainLines: Map<string, LineSummary>;
  doneTrainings: TrainJob[];
  errored: Job[];
  left: Job[];
  /** Stored job ids that are not jobs of this run (another experiment's, another shard's, or of an older glance). */
  unmatched: number;
  /** With `rates`: work per second of each kind of job, from the done ones (eta.ts). */
  rates: Map<string, Measured>;
  /** With `times`: the earliest start (a line's time minus its seconds) and the latest line time, in ms; ±Infinity when none. */
  first: number;
  last: number;
  droppedTornLine: boolean;
}

export function tallyRun(
  store: RunStore,
  config: ExperimentConfig,
  meta: Pick<RunMeta, 'splitSize' | 'shard' | 'stage'>,
  opts: { train?: boolean; times?: boolean; rates?: boolean; onJob?: (job: Job) => void } = {},
): RunTally {
  const seconds = new Map<string, number>();
  const erroredLines = new Map<string, LineSummary>();
  const trainLines = new Map<string, LineSummary>();
  let first = Infinity;
  let last = -Infinity;
  const { droppedTornLine } = store.scan(
    (line) => {
      const l = line as unknown as LineSummary;
      if (l.status === 'done') {
        seconds.set(l.jobId, l.seconds ?? NaN);
        erroredLines.delete(l.jobId);
        if (l.train) trainLines.set(l.jobId, l);
      } else {
        erroredLines.set(l.jobId, l);
        seconds.delete(l.jobId);
        trainLines.delete(l.jobId);
      }
      if (!opts.times) return;
      const at = Date.parse(l.at);
      if (!Number.isFinite(at)) return;
      first = Math.min(first, at - 1000 * (l.status === 'done' && l.seconds > 0 ? l.seconds : 0));
      last = Math.max(last, at);
    },
    { summary: true, checkpoint: opts.train },
  );
  const t: RunTally = {
    ofKind: { train: 0, eval: 0 },
    doneOfKind: { train: 0, eval: 0 },
    seconds,
    erroredLines,
    trainLines,
    doneTrainings: [],
    errored: [],
    left: [],
    unmatched: 0,
    rates: new Map(),
    first,
    last,
    droppedTornLine,
  };
  let matched = 0;
  forEachJobOfRun(config, meta, (j) => {
    t.ofKind[j.kind]++;
    const s = seconds.get(j.id);
    if (s !== undefined) {
      matched++;
      t.doneOfKind[j.kind]++;
      if (opts.rates) tallyRate(t.rates, j, s, config);
      if (j.kind === 'train') t.doneTrainings.push(j);
    } else if (erroredLines.has(j.id)) {
      matched++;
      t.errored.push(j);
    } else t.left.push(j);
    opts.onJob?.(j);
  });
  t.unmatched = seconds.size + erroredLines.size - matched;
  return t;
}
