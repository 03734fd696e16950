/**
 * Runs a job DAG: a job starts when its dependencies are done; each finished job
 * is appended to the store (fsynced) before anything depends on it; a job that
 * throws or whose worker crashes is recorded as errored and retried once; jobs
 * that depend on a job that failed for good are reported as blocked. The executor
 * is an interface, so the scheduling is tested without threads.
 */
import type { Job } from '../experiments/grid.js';
import type { JobOutcome, JobProgress } from '../experiments/types.js';
import type { JobLine, RunStore, StoreState } from './store.js';

export interface Executor {
  run(job: Job, onProgress: (p: JobProgress) => void): Promise<JobOutcome>;
}

export type RunEvent =
  | { type: 'start'; total: number; done: number; toRun: number }
  | { type: 'job-start'; job: Job; attempt: number }
  | { type: 'job-progress'; job: Job; progress: JobProgress }
  | { type: 'job-done'; job: Job; seconds: number; outcome: JobOutcome }
  | { type: 'job-error'; job: Job; attempt: number; error: string; willRetry: boolean }
  | { type: 'job-blocked'; job: Job; by: string }
  | { type: 'end'; summary: RunSummary };

export interface RunSummary {
  total: number;
  done: number;
  ranNow: number;
  skipped: number;
  errored: string[];
  blocked: string[];
  interrupted: boolean;
  seconds: number;
}

export interface ScheduleOptions {
  retries: number;
  /** Jobs in flight at once (the pool's workers), so "started" means running. Default: no limit. */
  concurrency?: number;
  /** Whether a stored job still holds (e.g. its checkpoint exists); redone when false. */
  isStillDone?: (job: Job, line: JobLine) => boolean;
  signal?: AbortSignal;
  onEvent?: (e: RunEvent) => void;
}

export async function runJobs(jobs: Job[], store: RunStore, state: StoreState, exec: Executor, opts: ScheduleOptions): Promise<RunSummary> {
  const t0 = performance.now();
  const emit = opts.onEvent ?? (() => {});
  const done = new Set<string>();
  for (const job of jobs) {
    const line = state.lines.get(job.id);
    if (line?.status === 'done' && (opts.isStillDone?.(job, line) ?? true)) done.add(job.id);
  }
  const skipped = done.size;
  const failed = new Set<string>();
  const blocked: string[] = [];
  const running = new Set<string>();
  const pending = jobs.filter((j) => !done.has(j.id));
  let ranNow = 0;
  emit({ type: 'start', total: jobs.length, done: done.size, toRun: pending.length });

  // A failure of the coordinator itself (the store cannot be written: a full disk): no job starts after it,
  // the running ones are waited for, and it is thrown once they are, so no worker thread outlives the run.
  let fatal: { error: unknown } | undefined;
  await new Promise<void>((resolveAll) => {
    const attempts = new Map<string, number>();
    const guard = (fn: () => void) => {
      try {
        fn();
      } catch (error) {
        fatal ??= { error };
      }
    };
    const pump = () => {
      if (fatal) {
        if (running.size === 0) resolveAll();
        return;
      }
      if (opts.signal?.aborted) {
        if (running.size === 0) resolveAll();
        return;
      }
      for (let i = 0; i < pending.length; i++) {
        const job = pending[i];
        const badDep = job.deps.find((d) => failed.has(d) || blocked.includes(d));
        if (badDep) {
          pending.splice(i--, 1);
          blocked.push(job.id);
          emit({ type: 'job-blocked', job, by: badDep });
          continue;
        }
        if (!job.deps.every((d) => done.has(d))) continue;
        if (running.size >= (opts.concurrency ?? Infinity)) break;
        pending.splice(i--, 1);
        guard(() => start(job));
        if (fatal) break;
      }
      if (running.size === 0) resolveAll();
    };
    const start = (job: Job) => {
      const attempt = (attempts.get(job.id) ?? 0) + 1;
      attempts.set(job.id, attempt);
      emit({ type: 'job-start', job, attempt });
      running.add(job.id);
      exec
        .run(job, (progress) => emit({ type: 'job-progress', job, progress }))
        // The attempt leaves `running` before its outcome is handled: a retry re-queued there may start
        // (from another job's pump) before this promise's finally, and must not be removed by it.
        .then(
          (outcome) => (running.delete(job.id), guard(() => {
            store.append({ jobId: job.id, status: 'done', seconds: outcome.seconds, attempt, train: outcome.train, results: outcome.results, at: new Date().toISOString() });
            done.add(job.id);
            ranNow++;
            emit({ type: 'job-done', job, seconds: outcome.seconds, outcome });
          })),
          (err: unknown) => (running.delete(job.id), guard(() => {
            const error = err instanceof Error ? (err.stack ?? err.message) : String(err);
            const aborted = opts.signal?.aborted ?? false;
            const willRetry = attempt <= opts.retries && !aborted;
            if (!aborted) store.append({ jobId: job.id, status: 'errored', error, attempt, at: new Date().toISOString() });
            emit({ type: 'job-error', job, attempt, error, willRetry });
            if (willRetry) pending.unshift(job);
            else if (!aborted) failed.add(job.id);
          })),
        )
        .finally(pump);
    };
    opts.signal?.addEventListener('abort', () => running.size === 0 && resolveAll(), { once: true });
    pump();
  });

  if (fatal) throw fatal.error;
  const summary: RunSummary = {
    total: jobs.length,
    done: done.size,
    ranNow,
    skipped,
    errored: [...failed],
    blocked,
    interrupted: opts.signal?.aborted ?? false,
    seconds: (performance.now() - t0) / 1000,
  };
  emit({ type: 'end', summary });
  return summary;
}

/** What runJobs says of a run whose every job is stored and holds (open-run.ts decided so without the grid). */
export function nothingToRun(total: number, emit: (e: RunEvent) => void): RunSummary {
  const summary: RunSummary = { total, done: total, ranNow: 0, skipped: total, errored: [], blocked: [], interrupted: false, seconds: 0 };
  emit({ type: 'start', total, done: total, toRun: 0 });
  emit({ type: 'end', summary });
  return summary;
}
