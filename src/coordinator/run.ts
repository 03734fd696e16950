/**
 * A run from start to end: open it (open-run.ts: its lock, the dataset in shared
 * memory, the store, checks, meta, reuse), build the job DAG, skip
 * what is stored, run the rest on the worker pool, and stop cleanly on Ctrl-C
 * with every finished job kept. Nothing here loads TensorFlow.js: only the
 * workers do.
 */
import { rmSync } from 'node:fs';
import type { ExperimentConfig, RunOptions } from '../experiments/config.js';
import { NATIVE_HINT } from '../experiments/types.js';
import { checkpointExists } from '../training/checkpoint.js';
import { openRun } from './open-run.js';
import { WorkerPool } from './pool.js';
import { ProgressView, type ProgressMode } from './progress.js';
import { runJobs, type RunSummary } from './scheduler.js';
import { runningFile, writeJson } from './store.js';

export interface RunIo {
  mode: ProgressMode;
  /** The command line, recorded for "how to reproduce". */
  command: string;
}

export async function runExperiment(config: ExperimentConfig, opts: RunOptions, io: RunIo): Promise<RunSummary> {
  const { store, state, jobs, dataset, versions, lock, notes } = openRun(config, opts, io.command);
  store.log(`run: ${jobs.length} jobs, ${opts.workers} workers${opts.shard ? `, shard ${opts.shard.index}/${opts.shard.count}` : ''}${opts.stage === 'train' ? ', training only' : ''}`);

  const pool = new WorkerPool({ workers: opts.workers, dataset, backend: config.backend, config, checkpointDir: store.checkpointDir, versions });
  const view = new ProgressView(io.mode, process.stderr);
  for (const n of notes) {
    store.log(n);
    view.note(n);
  }
  let hinted = false;
  // What is running now, for `glance status` (removed when the run ends).
  const running = new Set<string>();
  const writeRunning = () => writeJson(runningFile(opts.out), { pid: process.pid, jobs: [...running], at: new Date().toISOString() });
  const abort = new AbortController();
  const onSignal = () => {
    store.log('interrupted: finishing nothing new, finished jobs are stored');
    abort.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const summary = await runJobs(jobs, store, state, pool, {
      retries: 1,
      concurrency: opts.workers,
      signal: abort.signal,
      // A training job counts as done only while its checkpoint is there.
      isStillDone: (job, line) => job.kind !== 'train' || (line.status === 'done' && !!line.train && checkpointExists(store.checkpointDir, line.train.checkpoint)),
      onEvent: (e) => {
        view.handle(e);
        if (e.type === 'job-start') running.add(e.job.id);
        if (e.type === 'job-done' || e.type === 'job-error') running.delete(e.job.id);
        if (e.type === 'job-start' || e.type === 'job-done' || e.type === 'job-error') writeRunning();
        const backend = e.type === 'job-done' ? (e.outcome.train?.backend ?? e.outcome.results?.[0]?.backend) : undefined;
        if (backend && !hinted && config.backend === 'auto' && backend.name === 'wasm') {
          hinted = true;
          view.note(NATIVE_HINT);
        }
        if (e.type === 'job-error') store.log(`error ${e.job.id} attempt ${e.attempt}: ${e.error}`);
        if (e.type === 'job-done') store.log(`done ${e.job.id} in ${e.seconds.toFixed(1)} s`);
      },
    });
    store.log(`end: ${summary.done}/${summary.total} done, ${summary.errored.length} errored, ${summary.blocked.length} blocked${summary.interrupted ? ', interrupted' : ''}`);
    return summary;
  } finally {
    rmSync(runningFile(opts.out), { force: true });
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await pool.close();
    lock.release();
  }
}
