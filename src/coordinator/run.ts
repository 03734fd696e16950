/**
 * A run from start to end: load the dataset once into shared memory, open (or
 * resume) the run store, record where the run starts, build the job DAG, skip
 * what is stored, run the rest on the worker pool, and stop cleanly on Ctrl-C
 * with every finished job kept. Nothing here loads TensorFlow.js: only the
 * workers do.
 */
import { rmSync } from 'node:fs';
import { resolveDataset } from '../data/registry.js';
import { loadShared } from '../data/shared.js';
import type { ExperimentConfig, RunOptions } from '../experiments/config.js';
import { NATIVE_HINT } from '../experiments/types.js';
import { checkpointExists } from '../training/checkpoint.js';
import { gitCommit, jobsOfRun, libraryVersions, machineInfo, writeMeta, type RunMeta } from './meta.js';
import { WorkerPool } from './pool.js';
import { ProgressView, type ProgressMode } from './progress.js';
import { reuseCheckpoints } from './reuse.js';
import { runJobs, type RunSummary } from './scheduler.js';
import { RunStore, runningFile, writeJson } from './store.js';

export interface RunIo {
  mode: ProgressMode;
  /** The command line, recorded for "how to reproduce". */
  command: string;
}

export async function runExperiment(config: ExperimentConfig, opts: RunOptions, io: RunIo): Promise<RunSummary> {
  const dataset = loadShared(resolveDataset({ dataset: config.dataset, dataDir: config.dataDir }));
  const store = new RunStore(opts.out);
  // The store first: a run that cannot be resumed is refused before any worker starts.
  const state = store.open(config, opts.forceNew);
  if (state.droppedTornLine) store.log('dropped a torn last line of results.jsonl (a crash mid-write)');
  const versions = libraryVersions();
  const meta: RunMeta = {
    splitSize: dataset[config.eval.split].count,
    datasetFingerprint: dataset.fingerprint,
    command: io.command,
    shard: opts.shard,
    ...(opts.stage === 'train' ? { stage: opts.stage } : {}),
    versions,
    commit: gitCommit(),
    machine: machineInfo(),
  };
  writeMeta(opts.out, meta);
  const jobs = jobsOfRun(config, meta);
  for (const from of opts.reuseCheckpoints) {
    for (const id of reuseCheckpoints(jobs, config, dataset.fingerprint, from, store, state)) store.log(`reused ${id} from ${from}`);
  }
  store.log(`run: ${jobs.length} jobs, ${opts.workers} workers${opts.shard ? `, shard ${opts.shard.index}/${opts.shard.count}` : ''}${opts.stage === 'train' ? ', training only' : ''}`);

  const pool = new WorkerPool({ workers: opts.workers, dataset, backend: config.backend, config, checkpointDir: store.checkpointDir, versions });
  const view = new ProgressView(io.mode, process.stderr);
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
  }
}
