/**
 * One child process of the bench: one backend, its worker thread(s), one job
 * (bench/types.ts ChildJob, as JSON in argv[2]). Run by bench/run.ts, pinned with
 * taskset for single-worker runs, so the process's CPU time and peak RSS are those
 * of its one worker. Prints one line, RESULT_MARK + JSON (ChildResult), on stdout.
 */
import { Worker } from 'node:worker_threads';
import { configureNativeThreads } from '../src/backend/native-env.js';
import { resolveDataset } from '../src/data/registry.js';
import { loadShared, type SharedDataset } from '../src/data/shared.js';
import type { BackendInfo } from '../src/experiments/types.js';
import { workerScript } from '../src/workers/spawn.js';
import { efficiency, median, poolThroughput } from './stats.js';
import { RESULT_MARK, type ChildJob, type ChildResult, type Measurement, type PoolPoint, type Task, type WorkerInit, type WorkerReply, type WorkerRequest } from './types.js';

const MB = 1024 * 1024;

/** A started worker: its backend, and a function that runs one task. */
interface BenchWorker {
  info: BackendInfo;
  run(task: Task, barrier?: SharedArrayBuffer, workers?: number): Promise<Measurement>;
  close(): Promise<number>;
}

async function startWorker(init: WorkerInit): Promise<BenchWorker> {
  const script = workerScript('./worker.js', import.meta.url);
  const worker = new Worker(script.filename, { argv: script.argv, workerData: init });
  const pending = new Map<number, { task: Task; resolve: (m: Measurement) => void }>();
  let next = 0;
  // A worker that dies mid-task answers its pending tasks as errored.
  const fail = (why: string) => {
    for (const { task, resolve } of pending.values()) resolve({ state: 'errored', kind: task.kind, model: task.model, error: why });
    pending.clear();
  };
  const info = await new Promise<BackendInfo>((resolve, reject) => {
    worker.on('message', (r: WorkerReply) => {
      if ('ready' in r) resolve(r.ready);
      else if ('failed' in r) reject(new Error(r.failed));
      else {
        pending.get(r.id)?.resolve(r.result);
        pending.delete(r.id);
      }
    });
    worker.on('error', (e) => {
      reject(e);
      fail(`worker error: ${e.message}`);
    });
    worker.on('exit', (code) => {
      reject(new Error(`worker exited with code ${code} before it was ready`));
      fail(`worker exited with code ${code}`);
    });
  });
  return {
    info,
    run: (task, barrier, workers) =>
      new Promise((resolve) => {
        const id = next++;
        pending.set(id, { task, resolve });
        const req: WorkerRequest = { id, task, ...(barrier ? { barrier, workers } : {}) };
        worker.postMessage(req);
      }),
    close: () => worker.terminate(),
  };
}

async function single(job: Extract<ChildJob, { mode: 'single' }>, dataset: SharedDataset): Promise<ChildResult> {
  const baselineRssMB = process.memoryUsage().rss / MB;
  const w = await startWorker({ backend: job.backend, dataset });
  const measurements: Measurement[] = [];
  for (const task of job.tasks) {
    const m = await w.run(task);
    measurements.push(m);
    const what = task.kind === 'train' ? `train ${task.model}` : `${task.label} on ${task.model}`;
    const rate = m.state === 'completed' ? `${Math.round(median(m.perSec))}/s` : `error: ${m.error}`;
    process.stderr.write(`  ${job.backend} ${what}: ${rate}\n`);
  }
  await w.close();
  return { state: 'completed', backend: job.backend, info: w.info, mode: 'single', measurements, baselineRssMB, maxRssMB: process.resourceUsage().maxRSS / 1024 };
}

async function pool(job: Extract<ChildJob, { mode: 'pool' }>, dataset: SharedDataset): Promise<ChildResult> {
  const pools: Extract<ChildResult, { mode: 'pool' }>['pools'] = [];
  let info: BackendInfo | undefined;
  for (const task of job.tasks) {
    const points: PoolPoint[] = [];
    let fixed = task;
    try {
      for (const n of job.workers) {
        const rss0 = process.memoryUsage().rss / MB;
        const started = await Promise.allSettled(Array.from({ length: n }, () => startWorker({ backend: job.backend, dataset })));
        const workers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
        if (workers.length < n) {
          await Promise.all(workers.map((w) => w.close()));
          throw (started.find((s) => s.status === 'rejected') as PromiseRejectedResult).reason;
        }
        info ??= workers[0].info;
        const barrier = new SharedArrayBuffer(4);
        const results = await Promise.all(workers.map((w) => w.run(fixed, barrier, n)));
        const rss = Math.max(...results.map((r) => (r.state === 'completed' ? r.memory.rssMB : 0)));
        await Promise.all(workers.map((w) => w.close()));
        const failed = results.find((r) => r.state === 'errored');
        if (failed) throw new Error(failed.error);
        const done = results as Extract<Measurement, { kind: 'train' }>[];
        fixed = { ...task, limit: done[0].limit };
        const aggregate = poolThroughput(n * done[0].limit * done[0].reps, done);
        const wall = (Math.max(...done.map((r) => r.end)) - Math.min(...done.map((r) => r.start))) / 1000;
        const coresUsed = (Math.max(...done.map((r) => r.cpuEnd)) - Math.min(...done.map((r) => r.cpuStart))) / wall;
        const one = points[0] ?? { aggregate, coresUsed };
        const point: PoolPoint = {
          workers: n,
          aggregate,
          perWorker: done.map((r) => median(r.perSec)),
          efficiency: efficiency(aggregate, n, one.aggregate),
          coresUsed,
          cpuEfficiency: aggregate / coresUsed / (one.aggregate / one.coresUsed),
          rssPerWorkerMB: (rss - rss0) / n,
        };
        points.push(point);
        process.stderr.write(`  ${job.backend} ${task.model} x${n} workers: ${Math.round(aggregate)}/s, efficiency ${point.efficiency.toFixed(2)}, ` +
          `${coresUsed.toFixed(2)} cores used\n`);
      }
      pools.push({ model: task.model, limit: fixed.limit!, points });
    } catch (e) {
      pools.push({ model: task.model, error: e instanceof Error ? e.message : String(e) });
    }
  }
  if (!info) return { state: 'skipped', backend: job.backend, reason: pools.map((p) => ('error' in p ? p.error : '')).join('; ') };
  return { state: 'completed', backend: job.backend, info, mode: 'pool', pools, maxRssMB: process.resourceUsage().maxRSS / 1024 };
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2]) as ChildJob;
  configureNativeThreads(); // before any worker loads TensorFlow: one intra-op and one inter-op thread each
  const dataset = loadShared(resolveDataset({ dataset: 'mnist' }));
  let result: ChildResult;
  try {
    result = job.mode === 'single' ? await single(job, dataset) : await pool(job, dataset);
  } catch (e) {
    result = { state: 'skipped', backend: job.backend, reason: e instanceof Error ? e.message.split('\n')[0] : String(e) };
  }
  process.stdout.write(`${RESULT_MARK}${JSON.stringify(result)}\n`, () => process.exit(0));
}

await main();
