/**
 * A run on a BullMQ queue, seen from the one process that writes its store: the
 * submitter (`glance queue submit`) or, if it died, `glance queue collect`.
 *
 * Submitting opens the store as a local run does (the same config checks), gives
 * the run an id kept in the store (queue.json), and puts on the queue every job
 * whose dependencies are done. Following the run is a loop of passes over its
 * jobs: a job BullMQ completed is appended to results.jsonl (once: the store
 * holds it from then on), one that failed for good is recorded as errored, and a
 * job whose dependencies are all done is added (the workers add them too; fixed
 * ids make that harmless). QueueEvents wake a pass early and carry the workers'
 * progress to the display. Nothing here trusts an event for the results: they
 * come from the jobs' stored return values, so a missed event costs a second of
 * delay, not a result.
 */
import { existsSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { Queue, QueueEvents, type Job as BullJob } from 'bullmq';
import { readJson } from '../data/durable.js';
import { GlanceError } from '../errors.js';
import type { ExperimentConfig, RunOptions } from '../experiments/config.js';
import { buildJobs, type Job } from '../experiments/grid.js';
import { checkpointExists } from '../training/checkpoint.js';
import { acquireRunLock } from './lock.js';
import { jobsOfGrid, readMeta, type RunMeta } from './meta.js';
import { openRun } from './open-run.js';
import { ProgressView, type ProgressMode } from './progress.js';
import { checkRedis, connectionOf, gridIdOf, jobOptions, mintRunId, queueJobId, type QueueJobData, type QueueJobResult, type RedisTarget } from './queue.js';
import type { RunSummary } from './scheduler.js';
import { RunStore, runningFile, writeJson, type JobLine, type StoreState } from './store.js';

/** queue.json: which queue run a store is, so a second submit or a collect finds its jobs. */
export interface QueueLink {
  run: string;
  queue: string;
  /** Where it was submitted (no password), for people. */
  redis: string;
  /** The checkpoint directory every worker writes to, absolute. */
  checkpointDir: string;
}

export const queueFile = (runDir: string) => join(runDir, 'queue.json');

export interface QueueIo {
  mode: ProgressMode;
  /** The command line, recorded for "how to reproduce". */
  command: string;
}

export interface FollowOptions {
  redis: RedisTarget;
  queue: string;
  /** Follow the run to its end; false: one pass (submit, or store what is finished) and return. */
  wait: boolean;
  /** Seconds between passes when no event wakes one earlier. */
  pollSeconds?: number;
}

export interface QueueRunResult {
  summary: RunSummary;
  /** Every job is done, or failed for good, or blocked by one that did. */
  finished: boolean;
  link: QueueLink;
  /** Jobs this process put on the queue. */
  added: number;
}

type SubmitOptions = Pick<RunOptions, 'out' | 'shard' | 'forceNew' | 'reuseCheckpoints' | 'stage'>;

/** What a worker needs of the meta to rebuild the run's grid. */
function gridOf(meta: RunMeta): QueueJobData['grid'] {
  const { splitSize, shard, stage } = meta as RunMeta & { stage?: string };
  return { splitSize, ...(shard ? { shard } : {}), ...(stage ? { stage } : {}) } as QueueJobData['grid'];
}

export async function submitRun(config: ExperimentConfig, opts: SubmitOptions & FollowOptions, io: QueueIo): Promise<QueueRunResult> {
  // Redis first: an unreachable server is said before anything is opened or written.
  await checkRedis(opts.redis);
  const { store, state, meta, jobs, versions, lock, notes } = openRun(config, opts, io.command);
  try {
    for (const n of notes) {
      store.log(n);
      console.error(`note: ${n}`);
    }
    return await submitOpened(config, opts, io, { store, state, meta, jobs, fingerprint: meta.datasetFingerprint, versions });
  } finally {
    lock.release();
  }
}

async function submitOpened(
  config: ExperimentConfig,
  opts: SubmitOptions & FollowOptions,
  io: QueueIo,
  { store, state, meta, jobs, fingerprint, versions }: { store: RunStore; state: StoreState; meta: RunMeta; jobs: Job[]; fingerprint: string; versions: Record<string, string> },
): Promise<QueueRunResult> {
  const file = queueFile(opts.out);
  let link = !opts.forceNew && existsSync(file) ? readJson<QueueLink>(file, "the run's queue.json") : undefined;
  if (link && link.queue !== opts.queue) {
    throw new GlanceError('QUEUE_RUN', `${opts.out} was submitted to queue "${link.queue}", not "${opts.queue}"`, `pass --queue ${link.queue}, or --force-new to start the run afresh`);
  }
  if (!link) {
    link = { run: mintRunId(opts.out), queue: opts.queue, redis: opts.redis.display, checkpointDir: resolve(store.checkpointDir) };
    // Before any job is queued, so a crash right after still finds them.
    writeJson(file, link);
  }
  store.log(`queue submit: run ${link.run}, ${jobs.length} jobs, queue ${link.queue} at ${opts.redis.display}`);
  const data: Omit<QueueJobData, 'job'> = {
    run: link.run,
    config,
    checkpointDir: link.checkpointDir,
    versions,
    datasetFingerprint: fingerprint,
    grid: gridOf(meta),
  };
  return follow(store, state, jobs, data, link, opts, io, true);
}

export async function collectRun(out: string, opts: FollowOptions, io: QueueIo): Promise<QueueRunResult> {
  await checkRedis(opts.redis);
  const store = new RunStore(out);
  store.requireRun();
  const lock = acquireRunLock(out, io.command);
  try {
    return await collectLocked(store, out, opts, io);
  } finally {
    lock.release();
  }
}

async function collectLocked(store: RunStore, out: string, opts: FollowOptions, io: QueueIo): Promise<QueueRunResult> {
  const { config } = store.readStored();
  const meta = readMeta(out);
  const file = queueFile(out);
  if (!meta || !existsSync(file)) {
    throw new GlanceError('QUEUE_RUN', `${out} was not submitted to a queue (no ${meta ? 'queue.json' : 'meta.json'})`, 'submit it with glance queue submit --redis URL ... --out DIR');
  }
  const link = readJson<QueueLink>(file, "the run's queue.json");
  const state = store.openExisting();
  const grid = buildJobs(config, meta.splitSize);
  store.checkJobIds(state.lines, new Set(grid.map((j) => j.id)));
  if (state.droppedTornLine) store.log('dropped a torn last line of results.jsonl (a crash mid-write)');
  store.log(`queue collect: run ${link.run}, queue ${link.queue} at ${opts.redis.display}`);
  const data: Omit<QueueJobData, 'job'> = {
    run: link.run,
    config,
    checkpointDir: link.checkpointDir,
    versions: meta.versions,
    datasetFingerprint: meta.datasetFingerprint,
    grid: gridOf(meta),
  };
  return follow(store, state, jobsOfGrid(grid, meta), data, link, { ...opts, queue: link.queue }, io, false);
}

async function follow(
  store: RunStore,
  state: StoreState,
  jobs: Job[],
  data: Omit<QueueJobData, 'job'>,
  link: QueueLink,
  opts: FollowOptions,
  io: QueueIo,
  submitting: boolean,
): Promise<QueueRunResult> {
  const t0 = performance.now();
  const run = link.run;
  const view = new ProgressView(io.mode, { runDir: store.dir });
  // A training counts as done only while its checkpoint is there (as in a local run).
  const holds = (job: Job, line: JobLine | undefined) =>
    line?.status === 'done' && (job.kind !== 'train' || (!!line.train && checkpointExists(store.checkpointDir, line.train.checkpoint)));
  const done = new Set(jobs.filter((j) => holds(j, state.lines.get(j.id))).map((j) => j.id));
  const skipped = done.size;
  const failed = new Set<string>();
  const blocked = new Set<string>();
  const running = new Set<string>();
  let ranNow = 0;
  let added = 0;
  view.handle({ type: 'start', total: jobs.length, done: done.size, toRun: jobs.length - done.size });

  const connection = connectionOf(opts.redis);
  const queue = new Queue(opts.queue, { connection });
  const events = opts.wait ? new QueueEvents(opts.queue, { connection }) : undefined;
  let wake: (() => void) | undefined;
  // Set by an event that came during a pass, so the next pass follows at once.
  let dirty = false;
  const soon = () => {
    dirty = true;
    wake?.();
  };
  const byId = new Map(jobs.map((j) => [j.id, j]));
  const writeRunning = () => writeJson(runningFile(store.dir), { pid: process.pid, host: hostname(), jobs: [...running], at: new Date().toISOString() });
  let redisDown = false;
  const onRedisError = (e: Error) => {
    if (!redisDown) view.note(`lost Redis at ${opts.redis.display} (${e.message}); retrying, the run store is intact`);
    redisDown = true;
  };
  queue.on('error', onRedisError);
  events?.on('error', onRedisError);
  events?.on('active', ({ jobId }) => {
    const job = byId.get(gridIdOf(run, jobId) ?? '');
    if (!job || done.has(job.id)) return;
    running.add(job.id);
    writeRunning();
    view.handle({ type: 'job-start', job, attempt: 1 });
  });
  events?.on('progress', ({ jobId, data: progress }) => {
    const job = byId.get(gridIdOf(run, jobId) ?? '');
    if (job && typeof progress === 'object' && progress !== null && 'fraction' in progress) view.handle({ type: 'job-progress', job, progress: progress as never });
  });
  for (const e of ['completed', 'failed', 'stalled', 'waiting'] as const) events?.on(e, ({ jobId }: { jobId: string }) => gridIdOf(run, jobId) !== undefined && soon());

  const abort = new AbortController();
  const onSignal = () => {
    store.log('interrupted: the queued jobs go on on the workers; glance queue collect takes over');
    abort.abort();
    soon();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  /** One pass: store what finished, add what became ready, retry (on submit) what failed before. */
  const pass = async (first: boolean) => {
    for (const job of jobs) {
      if (done.has(job.id) || failed.has(job.id) || blocked.has(job.id)) continue;
      const id = queueJobId(run, job.id);
      let bj = (await queue.getJob(id)) as BullJob<QueueJobData, QueueJobResult> | undefined;
      let st = bj ? await bj.getState() : 'unknown';
      if (submitting && first && bj && st === 'failed') {
        // A resubmitted run tries its failed jobs again, as a rerun of a local run does.
        await bj.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
        continue;
      }
      if (submitting && first && bj && st === 'completed' && state.lines.get(job.id)?.status === 'done') {
        // Stored but no longer holding (its checkpoint is gone): train it again.
        await bj.remove();
        bj = undefined;
        st = 'unknown';
      }
      if (!bj || st === 'unknown') {
        if (job.deps.every((d) => done.has(d))) {
          await queue.add(job.kind, { ...data, job }, jobOptions(run, job));
          added++;
        }
        continue;
      }
      if (st === 'completed') {
        const r = bj.returnvalue;
        if (!r?.outcome) continue;
        const line: JobLine = { jobId: job.id, status: 'done', seconds: r.outcome.seconds, attempt: r.attempt, train: r.outcome.train, results: r.outcome.results, at: new Date(bj.finishedOn ?? Date.now()).toISOString() };
        store.append(line);
        state.lines.set(line.jobId, line);
        done.add(job.id);
        ranNow++;
        running.delete(job.id);
        store.log(`done ${job.id} on ${r.worker} in ${r.outcome.seconds.toFixed(1)} s`);
        view.handle({ type: 'job-done', job, seconds: r.outcome.seconds, outcome: r.outcome });
        if (events) writeRunning();
      } else if (st === 'failed') {
        const error = [bj.failedReason, ...(bj.stacktrace ?? []).slice(-1)].filter(Boolean).join('\n');
        const line: JobLine = { jobId: job.id, status: 'errored', error, attempt: Math.max(1, bj.attemptsMade), at: new Date(bj.finishedOn ?? Date.now()).toISOString() };
        const last = state.lines.get(job.id);
        if (!(last?.status === 'errored' && last.attempt === line.attempt && last.error === line.error)) {
          store.append(line);
          state.lines.set(line.jobId, line);
          store.log(`error ${job.id} attempt ${line.attempt}: ${bj.failedReason}`);
        }
        failed.add(job.id);
        running.delete(job.id);
        view.handle({ type: 'job-error', job, attempt: line.attempt, error, willRetry: false });
      }
    }
    // Jobs that wait on a job that failed for good will never run.
    for (let more = true; more; ) {
      more = false;
      for (const job of jobs) {
        if (done.has(job.id) || failed.has(job.id) || blocked.has(job.id)) continue;
        const by = job.deps.find((d) => failed.has(d) || blocked.has(d));
        if (by) {
          blocked.add(job.id);
          more = true;
          view.handle({ type: 'job-blocked', job, by });
        }
      }
    }
  };
  const finished = () => jobs.every((j) => done.has(j.id) || failed.has(j.id) || blocked.has(j.id));

  try {
    await queue.waitUntilReady();
    await events?.waitUntilReady();
    for (let first = true; ; first = false) {
      dirty = false;
      try {
        await pass(first);
        if (redisDown) view.note(`Redis at ${opts.redis.display} is back`);
        redisDown = false;
      } catch (e) {
        if (!opts.wait) throw e;
        onRedisError(e as Error);
      }
      if (finished() || !opts.wait || abort.signal.aborted) break;
      if (!dirty) {
        await new Promise<void>((r) => {
          const timer = setTimeout(r, (opts.pollSeconds ?? 2) * 1000);
          wake = () => {
            clearTimeout(timer);
            // Let a burst of events settle into one pass.
            setTimeout(r, 50);
          };
        });
        wake = undefined;
      }
      if (abort.signal.aborted) break;
    }
    const summary: RunSummary = {
      total: jobs.length,
      done: done.size,
      ranNow,
      skipped,
      errored: [...failed],
      blocked: [...blocked],
      interrupted: abort.signal.aborted,
      seconds: (performance.now() - t0) / 1000,
    };
    const isFinished = finished();
    if (isFinished || abort.signal.aborted) view.handle({ type: 'end', summary });
    store.log(`queue ${isFinished ? 'end' : 'pause'}: ${summary.done}/${summary.total} done, ${failed.size} errored, ${blocked.size} blocked, ${added} added now`);
    return { summary, finished: isFinished, link, added };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (events) rmSync(runningFile(store.dir), { force: true });
    await events?.close();
    await queue.close();
  }
}
