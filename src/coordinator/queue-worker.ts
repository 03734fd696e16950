/**
 * `glance worker`: takes jobs of any run from a BullMQ queue and runs them in
 * worker threads through the same piscina pool as a local run (one pool per
 * dataset and backend, made when the first job needs it). Each job carries its
 * run's config and checkpoint directory, so a worker needs nothing but the
 * dataset and that directory (shared between machines under the same path).
 *
 * Recovery is BullMQ's: a worker holds a lock on its job and renews it every
 * half lock; when a worker dies, the stall checker of any other worker puts the
 * job back after about the lock's duration. A worker that was only stopped and
 * then continues finishes its copy, but BullMQ refuses its result (the lock is
 * another's), its checkpoint write is temp-then-rename of the same bytes, and
 * the submitter's store keeps one line per job: running a job twice is harmless.
 *
 * After BullMQ has marked a job completed, the worker adds the dependents whose
 * dependencies are now all completed (queue.ts says why not flows).
 */
import { Queue, UnrecoverableError, Worker, type Job as BullJob } from 'bullmq';
import { resolveDataset } from '../data/registry.js';
import { loadShared } from '../data/shared.js';
import type { Job } from '../experiments/grid.js';
import { NATIVE_HINT } from '../experiments/types.js';
import { jobsOfRun } from './meta.js';
import { WorkerPool } from './pool.js';
import {
  checkRedis,
  connectionOf,
  dependentsOf,
  isDeterministic,
  jobOptions,
  queueJobId,
  workerName,
  type QueueJobData,
  type QueueJobResult,
  type RedisTarget,
} from './queue.js';
import { configureNativeThreads } from '../backend/native-env.js';

export interface QueueWorkerOptions {
  redis: RedisTarget;
  queue: string;
  /** Jobs run at once, each in its own worker thread. */
  workers: number;
  /** How long a job's lock lasts without renewal: about how long a dead worker's job waits to run again. */
  lockSeconds: number;
  /** One line per event, for people. */
  log: (line: string) => void;
}

/** Progress reaches Redis at most this often per job (it is a write and an event each time). */
const PROGRESS_EVERY_MS = 500;

export async function runQueueWorker(opts: QueueWorkerOptions): Promise<{ done: number; failed: number }> {
  await checkRedis(opts.redis);
  // Native TensorFlow reads these when the first worker thread loads it.
  configureNativeThreads();
  const connection = connectionOf(opts.redis);
  const name = workerName();
  const producer = new Queue(opts.queue, { connection });
  const pools = new Map<string, { pool: WorkerPool; fingerprint: string }>();
  const retired: WorkerPool[] = [];
  const grids = new Map<string, Job[]>();
  const active = new Map<string, { job: BullJob<QueueJobData, QueueJobResult>; token?: string }>();
  const pending = new Set<Promise<void>>();
  let hinted = false;
  let done = 0;
  let failed = 0;

  const poolKey = (d: QueueJobData) => JSON.stringify([d.config.dataset, d.config.dataDir ?? null, d.config.backend]);
  const poolFor = (d: QueueJobData) => {
    const key = poolKey(d);
    let entry = pools.get(key);
    if (!entry) {
      const dataset = loadShared(resolveDataset({ dataset: d.config.dataset, dataDir: d.config.dataDir }));
      entry = { pool: new WorkerPool({ workers: opts.workers, dataset, backend: d.config.backend, config: d.config, checkpointDir: d.checkpointDir, versions: d.versions }), fingerprint: dataset.fingerprint };
      pools.set(key, entry);
    }
    return entry;
  };

  const processor = async (job: BullJob<QueueJobData, QueueJobResult>, token?: string): Promise<QueueJobResult> => {
    const d = job.data;
    const id = job.id ?? queueJobId(d.run, d.job.id);
    active.set(id, { job, token });
    try {
      let entry = poolFor(d);
      if (entry.fingerprint !== d.datasetFingerprint) {
        // The files may have changed since this worker loaded them (fixed, or replaced): look again
        // once. The old pool may still be running other jobs; it closes with the worker.
        retired.push(entry.pool);
        pools.delete(poolKey(d));
        entry = poolFor(d);
      }
      if (entry.fingerprint !== d.datasetFingerprint) {
        throw new UnrecoverableError(`the dataset ${d.config.dataset} on ${name} (fingerprint ${entry.fingerprint}) is not the one the run was submitted with (${d.datasetFingerprint})`);
      }
      const again = job.attemptsMade > 0 ? ` (attempt ${job.attemptsMade + 1})` : job.stalledCounter > 0 ? ' (again: its worker stalled)' : '';
      opts.log(`start ${id}${again}`);
      let last = 0;
      const outcome = await entry.pool.runIn(d, d.job, (p) => {
        const now = Date.now();
        if (now - last < PROGRESS_EVERY_MS) return;
        last = now;
        job.updateProgress({ ...p }).catch(() => {});
      });
      const backend = outcome.train?.backend ?? outcome.results?.[0]?.backend;
      if (backend && !hinted && d.config.backend === 'auto' && backend.name === 'wasm') {
        hinted = true;
        opts.log(NATIVE_HINT);
      }
      return { outcome, attempt: job.attemptsMade + 1, worker: name };
    } catch (e) {
      if (e instanceof UnrecoverableError || !isDeterministic(e)) throw e;
      // The same job fails the same way anywhere: do not try it again.
      const err = new UnrecoverableError((e as Error).message);
      err.stack = (e as Error).stack;
      throw err;
    } finally {
      active.delete(id);
    }
  };

  /** Adds the dependents of a completed job whose dependencies are all completed now. */
  const addReady = async (d: QueueJobData) => {
    let jobs = grids.get(d.run);
    if (!jobs) grids.set(d.run, (jobs = jobsOfRun(d.config, d.grid)));
    for (const next of dependentsOf(jobs, d.job.id)) {
      const states = await Promise.all(next.deps.map((dep) => (dep === d.job.id ? 'completed' : producer.getJobState(queueJobId(d.run, dep)))));
      if (states.every((s) => s === 'completed')) await producer.add(next.kind, { ...d, job: next }, jobOptions(d.run, next));
    }
  };
  const track = (p: Promise<void>) => {
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };

  const lockMs = Math.round(opts.lockSeconds * 1000);
  const worker = new Worker<QueueJobData, QueueJobResult>(opts.queue, processor, {
    connection,
    concurrency: opts.workers,
    autorun: false,
    name,
    lockDuration: lockMs,
    // The stall checker marks a job whose lock is gone, then moves it back at its next look.
    stalledInterval: Math.max(500, Math.round(lockMs / 2.5)),
    // A job may lose its worker a few times (a kill, a stop) before it counts as failed.
    maxStalledCount: 3,
  });
  worker.on('completed', (job, result) => {
    done++;
    opts.log(`done  ${job.id} (${result.outcome.seconds.toFixed(1)} s)`);
    track(addReady(job.data).catch((e: Error) => opts.log(`could not queue the jobs after ${job.id} (${e.message}); the submitter will`)));
  });
  worker.on('failed', (job, err) => {
    failed++;
    const retry = job && !(err instanceof UnrecoverableError) && job.attemptsMade < (job.opts.attempts ?? 1);
    opts.log(`error ${job?.id ?? '?'}${retry ? ' (will be retried)' : ''}: ${err.message.split('\n')[0]}`);
  });
  worker.on('stalled', (jobId) => opts.log(`back on the queue: ${jobId} (its worker stopped renewing the lock)`));
  // BullMQ retries a lost lock at every renewal: say it once per job.
  const lost = new Set<string>();
  worker.on('lockRenewalFailed', (ids) => {
    const fresh = ids.filter((id) => !lost.has(id));
    for (const id of fresh) lost.add(id);
    if (fresh.length) opts.log(`lost the lock of ${fresh.join(', ')}: another worker may run it now; this copy's result will not count`);
  });
  const lastSaid = new Map<string, number>();
  worker.on('error', (e) => {
    const text = e.message.split('\n')[0];
    if (Date.now() - (lastSaid.get(text) ?? 0) < 10_000) return;
    lastSaid.set(text, Date.now());
    opts.log(`bullmq (Redis at ${opts.redis.display}): ${text}`);
  });

  let poolsClosed: Promise<unknown> | undefined;
  const closePools = () => (poolsClosed ??= Promise.all([...[...pools.values()].map((p) => p.pool), ...retired].map((p) => p.close())));

  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      opts.log(`${sig}: finishing ${active.size} running job(s), taking no new one (${sig} again hands them back now)`);
      void worker.close();
      return;
    }
    if (signals > 2) return;
    opts.log(`${sig}: handing back ${active.size} running job(s)`);
    void (async () => {
      // Back on the queue first, then end the threads: the jobs' copies here end unfinished.
      for (const { job, token } of active.values()) await job.moveToWait(token).catch(() => {});
      await closePools();
    })();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    opts.log(`worker ${name}: queue ${opts.queue} at ${opts.redis.display}, ${opts.workers} thread(s), lock ${opts.lockSeconds} s`);
    await worker.run();
    await worker.close();
    await Promise.allSettled([...pending]);
    opts.log(`stopped: ${done} job(s) done, ${failed} failed here`);
    return { done, failed };
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    await producer.close();
    await closePools();
  }
}
