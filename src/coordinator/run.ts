/**
 * A run from start to end: load the dataset once into shared memory, open (or
 * resume) the run store, build the job DAG, skip what is stored, run the rest on
 * the worker pool, and stop cleanly on Ctrl-C with every finished job kept.
 */
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolveDataset } from '../data/registry.js';
import { loadShared, type SharedDataset } from '../data/shared.js';
import { jobSeeds } from '../experiments/grid.js';
import { packSize, resolvePack, WASM_PACK_NOTE } from '../experiments/pack.js';
import type { BackendName } from '../experiments/types.js';
import type { ExperimentConfig, RunOptions } from '../experiments/config.js';
import { checkpointExists } from '../models/checkpoint.js';
import { NATIVE_HINT } from '../backend/select.js';
import { WorkerPool } from './pool.js';
import { reuseCheckpoint } from './reuse.js';
import { ProgressView, type ProgressMode } from './progress.js';
import { runJobs, type Executor, type RunSummary } from './scheduler.js';
import { RunStore, atomicWrite, runningFile, trainRecords, writeJson } from './store.js';
import { gitCommit, jobsOfRun, metaFile, type RunMeta } from './write-report.js';

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
  /** For tests with an executor: the backend --backend auto stands for when --pack auto is resolved (default wasm). */
  backend?: BackendName;
}

/**
 * The config a run stores: --pack auto resolved to a number. A resume takes the
 * stored number (so another --workers does not change the job ids); a new run
 * resolves auto on the backend its workers use (asked only when it matters).
 */
export async function resolveRunConfig(
  config: ExperimentConfig,
  store: RunStore,
  opts: Pick<RunOptions, 'workers' | 'forceNew'>,
  workersBackend: () => Promise<BackendName>,
): Promise<ExperimentConfig> {
  if (config.pack === 'auto' && store.exists() && !opts.forceNew) {
    const stored = store.readConfig().pack;
    if (typeof stored === 'number') return { ...config, pack: stored };
  }
  // An explicit number is kept (capped at the seeds) whatever the backend.
  if (config.pack !== 'auto') return { ...config, pack: resolvePack(config.pack, config.seeds.length, opts.workers, 'node') };
  const backend = config.backend !== 'auto' ? config.backend : await workersBackend();
  return { ...config, pack: resolvePack('auto', config.seeds.length, opts.workers, backend) };
}

export async function runExperiment(requested: ExperimentConfig, opts: RunOptions, io: RunIo): Promise<RunSummary> {
  const dataset = loadShared(resolveDataset({ dataset: requested.dataset, dataDir: requested.dataDir }));
  const store = new RunStore(opts.out);
  const pool = io.executor
    ? undefined
    : new WorkerPool({
        workers: opts.workers,
        dataset,
        backend: requested.backend,
        config: requested,
        checkpointDir: store.checkpointDir,
        versions: libraryVersions(),
      });
  try {
    const config = await resolveRunConfig(requested, store, opts, async () => io.backend ?? (pool ? (await pool.backend()).name : 'wasm'));
    pool?.setConfig(config);
    return await runStore(config, opts, io, dataset, store, pool);
  } finally {
    await pool?.close();
  }
}

async function runStore(config: ExperimentConfig, opts: RunOptions, io: RunIo, dataset: SharedDataset, store: RunStore, pool: WorkerPool | undefined): Promise<RunSummary> {
  const state = store.open(config, opts.forceNew);
  if (state.droppedTornLine) store.log('dropped a torn last line of results.jsonl (a crash mid-write)');
  const meta: RunMeta = {
    splitSize: dataset[config.eval.split].count,
    datasetFingerprint: dataset.fingerprint,
    command: io.command,
    shard: opts.shard,
    versions: libraryVersions(),
    commit: gitCommit(),
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
  // --pack n on wasm or cpu: allowed, but said once (at the start when the backend is named, else when a job shows it).
  let packNoted = packSize(config) > 1 && (config.backend === 'wasm' || config.backend === 'cpu');
  if (packNoted) view.note(WASM_PACK_NOTE);
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
  try {
    const summary = await runJobs(jobs, store, state, io.executor ?? pool!, {
      retries: 1,
      concurrency: opts.workers,
      signal: abort.signal,
      // A training job counts as done only while its checkpoints are there, every seed's for a pack.
      isStillDone: (job, line) => {
        if (job.kind !== 'train') return true;
        if (line.status !== 'done') return false;
        const records = trainRecords(line);
        return jobSeeds(job).every((seed) => records.some((r) => r.seed === seed && checkpointExists(store.checkpointDir, r.checkpoint)));
      },
      onEvent: (e) => {
        view.handle(e);
        if (e.type === 'job-start') running.add(e.job.id);
        if (e.type === 'job-done' || e.type === 'job-error') running.delete(e.job.id);
        if (e.type === 'job-start' || e.type === 'job-done' || e.type === 'job-error') writeRunning();
        const backend = e.type === 'job-done' ? (trainRecords(e.outcome)[0]?.backend ?? e.outcome.results?.[0]?.backend) : undefined;
        if (backend && !hinted && config.backend === 'auto' && backend.name === 'wasm') {
          hinted = true;
          view.note(NATIVE_HINT);
        }
        if (backend && !packNoted && packSize(config) > 1 && backend.name !== 'node') {
          packNoted = true;
          view.note(WASM_PACK_NOTE);
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
  }
}
