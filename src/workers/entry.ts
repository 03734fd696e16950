/**
 * The worker thread: picks the backend once, views the shared dataset, runs one
 * job per task and returns plain JSON. No console output; the only file a job
 * writes is the checkpoint a training job is asked to write.
 */
import { workerData } from 'node:worker_threads';
import * as Comlink from 'comlink/dist/esm/comlink.mjs';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { selectBackend } from '../backend/select.js';
import type { BackendInfo } from '../experiments/types.js';
import type { BackendQuery, JobOutcome, ProgressSink, WorkerInit, WorkerTask } from './protocol.js';
import { runTrainJob } from './train-job.js';
import { runEvalJob } from './eval-job.js';
import { testFault } from './faults.js';

const init = workerData as WorkerInit;
let backend: Promise<BackendInfo> | undefined;

/**
 * Selects the backend holding the pool's init lock: native TensorFlow loaded by
 * two threads at the same instant was seen to crash the whole process now and
 * then (a run died right after its first two jobs started), so threads take turns.
 */
async function selectOnce(): Promise<BackendInfo> {
  const lock = new Int32Array(init.initLock);
  while (Atomics.compareExchange(lock, 0, 0, 1) !== 0) Atomics.wait(lock, 0, 1, 100);
  try {
    return await selectBackend(init.backend);
  } finally {
    Atomics.store(lock, 0, 0);
    Atomics.notify(lock, 0);
  }
}

export default async function run(task: WorkerTask | BackendQuery): Promise<JobOutcome | BackendInfo> {
  backend ??= selectOnce();
  const info = await backend;
  if ('query' in task) return info;
  const remote = task.progress ? Comlink.wrap<ProgressSink>(nodeEndpoint(task.progress)) : undefined;
  // Progress is fire-and-forget: a job never waits on the coordinator.
  const report: ProgressSink = { progress: (p) => void remote?.progress(p).catch(() => {}) };
  try {
    testFault(task.job.id);
    const t0 = performance.now();
    let outcome: Omit<JobOutcome, 'seconds'>;
    if (task.job.kind === 'train') {
      const records = runTrainJob(task.job, task, init.dataset, info, report);
      outcome = task.job.seeds ? { trains: records } : { train: records[0] };
    } else outcome = { results: runEvalJob(task.job, task, init.dataset, info, report) };
    return { ...outcome, seconds: (performance.now() - t0) / 1000 };
  } finally {
    remote?.[Comlink.releaseProxy]();
    task.progress?.close();
  }
}
