/**
 * What the submitter and the workers of a BullMQ queue share: the Redis address,
 * the run a queue job belongs to, job ids and options, and the one rule of the
 * DAG on a queue.
 *
 * BullMQ gives a job one parent, but here a training feeds many evaluations and a
 * transfer evaluation needs two trainings (and GlanceAgain's training needs
 * NormalNet's). So there are no flows: a job goes on the queue only when every
 * job it depends on is done, under a fixed id. Whoever sees a dependency finish
 * may add its dependents (the worker that finished it, right after BullMQ marked
 * it completed; the submitter on every pass over the queue), and adding an id
 * that exists adds nothing, so the race between them is harmless.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { basename } from 'node:path';
import type { JobsOptions } from 'bullmq';
import { GlanceError } from '../errors.js';
import type { ExperimentConfig } from '../experiments/config.js';
import type { Job } from '../experiments/grid.js';
import type { JobOutcome } from '../experiments/types.js';
import type { jobsOfRun } from './meta.js';

export const DEFAULT_QUEUE = 'glance';

/** The connection options BullMQ hands to ioredis (a subset of both libraries' types). */
export interface RedisOptions {
  host?: string;
  port?: number;
  path?: string;
  db?: number;
  username?: string;
  password?: string;
  tls?: Record<string, never>;
}

/** A Redis server as BullMQ connects to it, and as people should see it (no password). */
export interface RedisTarget {
  options: RedisOptions;
  display: string;
}

const REDIS_FORMS = 'redis://[user:password@]host[:port][/db], rediss://... (TLS), or unix:///path/to/redis.sock';

/** Parses --redis: redis://, rediss:// or unix:// URLs, or a bare path to a unix socket. */
export function parseRedisUrl(text: string): RedisTarget {
  const bad = (why: string) => new GlanceError('BAD_OPTION', `--redis ${JSON.stringify(text)}: ${why}`, `give ${REDIS_FORMS}`);
  if (text.startsWith('/')) return { options: { path: text }, display: `unix://${text}` };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw bad('not a URL');
  }
  const db = (s: string | null) => {
    if (s === null || s === '') return undefined;
    const n = Number(s);
    if (!Number.isInteger(n) || n < 0) throw bad(`database ${JSON.stringify(s)} is not a number`);
    return n;
  };
  if (url.protocol === 'unix:') {
    const path = decodeURIComponent(url.pathname);
    if (!path) throw bad('no socket path');
    return { options: { path, db: db(url.searchParams.get('db')) }, display: `unix://${path}` };
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw bad(`unknown scheme ${url.protocol}`);
  if (!url.hostname) throw bad('no host');
  const options: RedisOptions = {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : 6379,
    db: db(url.pathname.replace(/^\//, '')),
  };
  if (url.username) options.username = decodeURIComponent(url.username);
  if (url.password) options.password = decodeURIComponent(url.password);
  if (url.protocol === 'rediss:') options.tls = {};
  url.password = '';
  return { options, display: url.toString() };
}

/**
 * Connects once, with a short timeout and no retries, so a wrong address is an
 * error naming it within seconds; BullMQ's own connections retry forever, which
 * is right once the server is known to be there and wrong before. Also refuses a
 * server that evicts keys, which would silently drop jobs.
 */
export async function checkRedis(target: RedisTarget, timeoutMs = 3000): Promise<void> {
  const { Redis } = await import('ioredis');
  const client = new Redis({ ...target.options, lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  let lastError: Error | undefined;
  client.on('error', (e: Error) => (lastError = e));
  let policy: string | undefined;
  try {
    const deadline = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer in ${timeoutMs / 1000} s`)), timeoutMs).unref());
    await Promise.race([
      (async () => {
        await client.connect();
        await client.ping();
        policy = /maxmemory_policy:(\S+)/.exec(await client.info('memory'))?.[1];
      })(),
      deadline,
    ]);
  } catch (e) {
    const why = (lastError ?? (e as Error)).message || String(e);
    throw new GlanceError(
      'QUEUE_UNREACHABLE',
      `cannot reach Redis at ${target.display} (${why})`,
      'start a Redis server there (Debian: apt-get install redis-server), or pass the right --redis URL; ' +
        `forms: ${REDIS_FORMS}; nothing was queued or written`,
    );
  } finally {
    client.disconnect();
  }
  if (policy && policy !== 'noeviction') {
    throw new GlanceError(
      'QUEUE_UNREACHABLE',
      `Redis at ${target.display} evicts keys (maxmemory-policy ${policy}), so queued jobs could vanish`,
      'set it to noeviction: redis-cli config set maxmemory-policy noeviction (or maxmemory-policy noeviction in redis.conf)',
    );
  }
}

/** BullMQ's connection options for a target: its own clients, retrying while the server restarts. */
export const connectionOf = (target: RedisTarget): RedisOptions => ({ ...target.options });

/**
 * Everything a worker needs to run a job of a run, carried by every queue job so
 * any worker can take any job of any run. Paths are absolute: workers on other
 * machines must see the run's checkpoint directory under the same path.
 */
export interface QueueJobData {
  /** The run, the prefix of every id of its jobs. */
  run: string;
  job: Job;
  config: ExperimentConfig;
  checkpointDir: string;
  versions: Record<string, string>;
  datasetFingerprint: string;
  /** What the grid of the run is built from (the split size, a --shard slice). */
  grid: Parameters<typeof jobsOfRun>[1];
}

/** What a worker returns for a queue job. */
export interface QueueJobResult {
  outcome: JobOutcome;
  /** 1 for a first try; a stalled job that came back keeps its attempt. */
  attempt: number;
  /** host:pid of the worker process that ran it. */
  worker: string;
}

/** The queue job id of a grid job: the run, then the grid id (neither holds ':'). */
export const queueJobId = (run: string, gridId: string) => `${run}/${gridId}`;

export const gridIdOf = (run: string, queueId: string): string | undefined => (queueId.startsWith(`${run}/`) ? queueId.slice(run.length + 1) : undefined);

/**
 * A new run's id: the run directory's name and a random part, minted once when
 * the run is first submitted and kept in the store (queue.json). Another run, of
 * any config, gets another id, so its jobs never meet this run's completed ones.
 */
export function mintRunId(out: string): string {
  const name = basename(out.replace(/\/+$/, '')).replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 40) || 'run';
  return `${name}-${randomBytes(4).toString('hex')}`;
}

/** Trainings first: they are what the evaluations wait for. */
export function jobOptions(run: string, job: Job): JobsOptions {
  return {
    jobId: queueJobId(run, job.id),
    priority: job.kind === 'train' ? 1 : 2,
    // A job that throws is tried once more, as in a local run; a deterministic failure is not (UnrecoverableError).
    attempts: 2,
    removeOnComplete: false,
    removeOnFail: false,
  };
}

/** The jobs that depend on `id`. */
export const dependentsOf = (jobs: Job[], id: string) => jobs.filter((j) => j.deps.includes(id));

/**
 * Whether an error of a job is deterministic (the same input fails the same way
 * on any worker): a GlanceError, i.e. a usage or data error. An error crosses the
 * thread boundary as a plain Error, but its stack still starts with its name.
 */
export function isDeterministic(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  return err.name === 'GlanceError' || err instanceof GlanceError || /^GlanceError: /.test(err.stack ?? '');
}

/** host:pid, how a worker process is named in logs and results. */
export const workerName = () => `${hostname()}:${process.pid}`;
