/**
 * A run from start to end: load the dataset once into shared memory, open (or
 * resume) the run store, build the job DAG, skip what is stored, run the rest on
 * the worker pool, and stop cleanly on Ctrl-C with every finished job kept.
 */
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolveDataset } from '../data/registry.js';
import { loadShared } from '../data/shared.js';
import type { ExperimentConfig, RunOptions } from '../experiments/config.js';
import { checkpointExists } from '../models/checkpoint.js';
import { NATIVE_HINT } from '../backend/select.js';
import { WorkerPool } from './pool.js';
import { reuseCheckpoint } from './reuse.js';
import { ProgressView, type ProgressMode } from './progress.js';
import { runJobs, type Executor, type RunSummary } from './scheduler.js';
import { RunStore, atomicWrite, runningFile, writeJson } from './store.js';
import { jobsOfRun, metaFile, type RunMeta } from './write-report.js';

const require = createRequire(import.meta.url);

export function libraryVersions(): Record<string, string> {
  const v = (name: string) => {
    try {
      return (require(`${name}/package.json`) as { version: string }).version;
    } catch {
      return 'absent';
    }
  };
  // From src/coordinator or dist/src/coordinator: the first package.json up is ours.
  const own =
    ['../../package.json', '../../../package.json']
      .map((p) => {
        try {
          const pkg = require(p) as { name?: string; version?: string };
          return pkg.name === 'glance-bench' ? pkg.version : undefined;
        } catch {
          return undefined;
        }
      })
      .find((x) => x !== undefined) ?? 'absent';
  return { node: process.versions.node, '@tensorflow/tfjs': v('@tensorflow/tfjs'), 'glance-bench': own };
}

export interface RunIo {
  mode: ProgressMode;
  /** The command line, recorded for "how to reproduce". */
  command: string;
  out?: NodeJS.WritableStream;
  /** For tests: run jobs with this instead of a worker pool. */
  executor?: Executor;
}

export async function runExperiment(config: ExperimentConfig, opts: RunOptions, io: RunIo): Promise<RunSummary> {
  const dataset = loadShared(resolveDataset({ dataset: config.dataset, dataDir: config.dataDir }));
  const store = new RunStore(opts.out);
  const state = store.open(config, opts.forceNew);
  if (state.droppedTornLine) store.log('dropped a torn last line of results.jsonl (a crash mid-write)');
  const meta: RunMeta = {
    splitSize: dataset[config.eval.split].count,
    datasetFingerprint: dataset.fingerprint,
    command: io.command,
    shard: opts.shard,
    versions: libraryVersions(),
  };
  writeJson(metaFile(opts.out), meta);
  const jobs = jobsOfRun(config, meta);
  for (const from of opts.reuseCheckpoints) {
    for (const job of jobs) {
      if (job.kind !== 'train' || state.lines.get(job.id)?.status === 'done') continue;
      if (reuseCheckpoint(job, config, dataset.fingerprint, from, store)) store.log(`reused ${job.id} from ${from}`);
    }
  }
  if (opts.reuseCheckpoints.length) Object.assign(state, store.read());
  store.log(`run: ${jobs.length} jobs, ${opts.workers} workers${opts.shard ? `, shard ${opts.shard.index}/${opts.shard.count}` : ''}`);

  const view = new ProgressView(io.mode, io.out);
  let hinted = false;
  // What is running now, for `glance status` (removed when the run ends).
  const running = new Set<string>();
  const writeRunning = () => atomicWrite(runningFile(opts.out), JSON.stringify({ pid: process.pid, jobs: [...running], at: new Date().toISOString() }) + '\n');
  const abort = new AbortController();
  const onSignal = () => {
    store.log('interrupted: finishing nothing new, finished jobs are stored');
    abort.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const pool = io.executor
    ? undefined
    : new WorkerPool({
        workers: opts.workers,
        dataset,
        backend: config.backend,
        config,
        checkpointDir: store.checkpointDir,
        versions: libraryVersions(),
      });
  try {
    const summary = await runJobs(jobs, store, state, io.executor ?? pool!, {
      retries: 1,
      concurrency: opts.workers,
      signal: abort.signal,
      // A training job counts as done only while its checkpoint is there.
      isStillDone: (job, line) =>
        job.kind !== 'train' || (line.status === 'done' && !!line.train && checkpointExists(store.checkpointDir, line.train.checkpoint)),
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
    await pool?.close();
  }
}
