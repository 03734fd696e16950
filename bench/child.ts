/**
 * One child process of the bench: one backend, its worker thread(s), one job
 * (bench/types.ts ChildJob, as JSON in argv[2]). Run by bench/run.ts, pinned with
 * taskset for single-worker runs, so the process's CPU time and peak RSS are those
 * of its one worker; a pool job runs its training jobs in N workers at once, one
 * process per N, so each N's peak RSS is its own. A job with `disable` runs with
 * those fast kernels switched off: bench/spawn.ts puts them in the process's
 * GLANCE_DISABLE_KERNELS, which the workers' backends read when they register.
 * Prints one line, RESULT_MARK + JSON (ChildResult), on stdout.
 */
import { Worker } from 'node:worker_threads';
import { configureNativeThreads } from '../src/backend/native-env.js';
import { resolveDataset } from '../src/data/registry.js';
import { loadShared, type SharedDataset } from '../src/data/shared.js';
import type { BackendInfo } from '../src/experiments/types.js';
import { workerScript } from '../src/workers/spawn.js';
import { median, poolThroughput } from './stats.js';
import { RESULT_MARK, type ChildJob, type ChildResult, type KernelProbe, type Measurement, type PoolRun, type Task, type WorkerInit, type WorkerReply, type WorkerRequest } from './types.js';

const MB = 1024 * 1024;

/** A started worker: its backend and kernels, and a function that runs one task. */
interface BenchWorker {
  info: BackendInfo;
  kernels: KernelProbe;
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
    for (const { task, resolve } of pending.values()) {
      resolve({ state: 'errored', kind: task.kind, model: task.model, ...(task.kind === 'attack' ? { label: task.label } : {}), error: why });
    }
    pending.clear();
  };
  const { info, kernels } = await new Promise<{ info: BackendInfo; kernels: KernelProbe }>((resolve, reject) => {
    worker.on('message', (r: WorkerReply) => {
      if ('ready' in r) resolve({ info: r.ready, kernels: r.kernels });
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
    kernels,
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
  const w = await startWorker({ backend: job.backend, dataset, stockKernels: job.stockKernels });
  const measurements: Measurement[] = [];
  for (const task of job.tasks) {
    const m = await w.run(task);
    measurements.push(m);
    const what = task.kind === 'train' ? `train ${task.model}` : `${task.label} on ${task.model}`;
    const rate = m.state === 'completed' ? `${Math.round(median(m.perSec))}/s` : `error: ${m.error}`;
    const off = job.disable?.length ? ` (${job.disable.join(',')} off)` : '';
    process.stderr.write(`  ${job.backend}${off} ${what}: ${rate}\n`);
  }
  await w.close();
  return {
    state: 'completed', backend: job.backend, info: w.info, mode: 'single', measurements, kernels: w.kernels,
    ...(job.disable?.length ? { disabled: job.disable } : {}), baselineRssMB, maxRssMB: process.resourceUsage().maxRSS / 1024,
  };
}

async function pool(job: Extract<ChildJob, { mode: 'pool' }>, dataset: SharedDataset): Promise<ChildResult> {
  const baselineRssMB = process.memoryUsage().rss / MB;
  const n = job.workers;
  const started = await Promise.allSettled(Array.from({ length: n }, () => startWorker({ backend: job.backend, dataset })));
  const workers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  if (workers.length < n) {
    await Promise.all(workers.map((w) => w.close()));
    throw (started.find((s) => s.status === 'rejected') as PromiseRejectedResult).reason;
  }
  const runs: Extract<ChildResult, { mode: 'pool' }>['runs'] = [];
  for (const task of job.tasks) {
    const barrier = new SharedArrayBuffer(4);
    const results = await Promise.all(workers.map((w) => w.run(task, barrier, n)));
    const failed = results.find((r) => r.state === 'errored');
    if (failed) {
      runs.push({ model: task.model, error: failed.error });
      continue;
    }
    const done = results as Extract<Measurement, { kind: 'train' }>[];
    const wall = (Math.max(...done.map((r) => r.end)) - Math.min(...done.map((r) => r.start))) / 1000;
    const run: PoolRun = {
      model: task.model,
      workers: n,
      limit: done[0].limit,
      aggregate: poolThroughput(n * done[0].limit * done[0].reps, done),
      perWorker: done.map((r) => median(r.perSec)),
      coresUsed: (Math.max(...done.map((r) => r.cpuEnd)) - Math.min(...done.map((r) => r.cpuStart))) / wall,
    };
    runs.push(run);
    process.stderr.write(`  ${job.backend} ${task.model} x${n} workers: ${Math.round(run.aggregate)}/s, ${run.coresUsed.toFixed(2)} cores used\n`);
  }
  await Promise.all(workers.map((w) => w.close()));
  return { state: 'completed', backend: job.backend, info: workers[0].info, mode: 'pool', workers: n, runs, baselineRssMB, maxRssMB: process.resourceUsage().maxRSS / 1024 };
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
