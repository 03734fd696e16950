/**
 * A run from start to end: open it (open-run.ts: its lock, the dataset in shared
 * memory, the store, checks, meta, reuse), build the job DAG, skip
 * what is stored, run the rest on the worker pool, and stop cleanly on Ctrl-C
 * with every finished job kept. Nothing here loads TensorFlow.js: only the
 * workers do.
 */
import type { ExperimentConfig, RunOptions } from '../experiments/config.js';
import { NATIVE_HINT } from '../experiments/types.js';
import { checkpointExists } from '../training/checkpoint.js';
import { openRun } from './open-run.js';
import { WorkerPool } from './pool.js';
import { ProgressView, type ProgressMode } from './progress.js';
import { RunningFile } from './running.js';
import { nothingToRun, runJobs, type Executor, type RunEvent, type RunSummary } from './scheduler.js';

export interface RunIo {
  mode: ProgressMode;
  /** The command line, recorded for "how to reproduce". */
  command: string;
}

export async function runExperiment(config: ExperimentConfig, opts: RunOptions, io: RunIo): Promise<RunSummary> {
  const opened = openRun(config, opts, io.command);
  const { store, versions, lock, notes, finished } = opened;
  store.log(`run: ${finished?.total ?? opened.jobs.length} jobs, ${opts.workers} workers${opts.shard ? `, shard ${opts.shard.index}/${opts.shard.count}` : ''}${opts.stage === 'train' ? ', training only' : ''}`);

  // Loaded now when there is work (a data error is said before any job starts); a finished run never loads it.
  if (!finished) void opened.dataset;
  // Made when a job is to run: a resume with nothing left starts no worker thread.
  let pool: WorkerPool | undefined;
  let closing: Promise<void> | undefined;
  const exec: Executor = {
    run: (job, onProgress) => (pool ??= new WorkerPool({ workers: opts.workers, dataset: opened.dataset, backend: config.backend, config, checkpointDir: store.checkpointDir, versions })).run(job, onProgress),
  };
  const closePool = () => (closing ??= pool?.close() ?? Promise.resolve());
  const stored = new Map<string, number>();
  if (!finished) for (const l of opened.state.lines.values()) if (l.status === 'done') stored.set(l.jobId, l.seconds);
  // A finished run's ETA is that of no job left.
  const view = new ProgressView(io.mode, { runDir: opts.out, eta: { jobs: finished ? [] : opened.jobs, config, workers: opts.workers, stored } });
  // Limits as used and what was not reused: said even with --quiet, an event with --json.
  for (const n of notes) {
    store.log(n);
    view.urgent(n, 'notice');
  }
  let hinted = false;
  let diskFull = false;
  // What is running now, for `glance status` (removed when the run ends).
  const running = new RunningFile(opts.out, opts.workers);
  const abort = new AbortController();
  // The first Ctrl-C lets the running jobs finish (and be stored); the second stops them.
  let signals = 0;
  const onSignal = () => {
    if (++signals === 1) {
      store.log('interrupted: finishing nothing new, finished jobs are stored');
      abort.abort();
      const waiting = view.runningText();
      view.urgent(
        waiting
          ? `interrupted: waiting for the running jobs to finish and be stored (${waiting}); press Ctrl-C again to stop them now (they run again on resume)`
          : 'interrupted: stopping',
        'interrupt',
        { waitingFor: waiting },
      );
      return;
    }
    store.log('aborted: running jobs stopped, they run again on resume');
    view.urgent('aborting: stopping the running jobs; every finished job is stored, the stopped ones run again on resume', 'abort');
    void closePool();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const onEvent = (e: RunEvent) => {
      view.handle(e);
      running.handle(e);
      const backend = e.type === 'job-done' ? (e.outcome.train?.backend ?? e.outcome.results?.[0]?.backend) : undefined;
      if (backend && !hinted && config.backend === 'auto' && backend.name === 'wasm') {
        hinted = true;
        view.note(NATIVE_HINT);
      }
      if (e.type === 'job-error' && !diskFull && /\b(ENOSPC|EDQUOT)\b/.test(e.error)) {
        // The machine's limit, not the job's fault: said once, with what to do, where a person looks.
        diskFull = true;
        const text = `${e.job.id}: no space left on the device (${e.error.split('\n')[0]}); free some space, then the same command resumes`;
        view.urgent(text, 'notice', { job: e.job.id });
      }
      if (e.type === 'job-error') store.log(`error ${e.job.id} attempt ${e.attempt}: ${e.error}`);
      if (e.type === 'job-done') store.log(`done ${e.job.id} in ${e.seconds.toFixed(1)} s`);
    };
    const summary = finished
      ? nothingToRun(finished.total, onEvent)
      : await runJobs(opened.jobs, store, opened.state, exec, {
          retries: 1,
          concurrency: opts.workers,
          signal: abort.signal,
          // A training job counts as done only while its checkpoint is there.
          isStillDone: (job, line) => job.kind !== 'train' || (line.status === 'done' && !!line.train && checkpointExists(store.checkpointDir, line.train.checkpoint)),
          onEvent,
        });
    store.log(`end: ${summary.done}/${summary.total} done, ${summary.errored.length} errored, ${summary.blocked.length} blocked${summary.interrupted ? ', interrupted' : ''}`);
    return summary;
  } finally {
    running.remove();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await closePool();
    lock.release();
  }
}
