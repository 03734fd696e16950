/**
 * The worker thread: picks the backend once, views the shared dataset, runs one
 * job per task and returns plain JSON. No console output; the only file a job
 * writes is the checkpoint a training job is asked to write.
 */
import { workerData } from 'node:worker_threads';
import { selectBackend } from '../backend/select.js';
import type { BackendInfo, JobOutcome } from '../experiments/types.js';
import type { ProgressSink, WorkerInit, WorkerTask } from './protocol.js';
import { runTrainJob } from './train-job.js';
import { runEvalJob } from './eval-job.js';
import { testFault } from './faults.js';

const init = workerData as WorkerInit;
let backend: Promise<BackendInfo> | undefined;

export default async function run(task: WorkerTask): Promise<JobOutcome> {
  // Several workers may load the native backend at once: npm run native builds the
  // addon with its worker-thread fix (test/native-threads.test.ts starts them together).
  backend ??= selectBackend(init.backend);
  const info = await backend;
  // Fire-and-forget: a job never waits on the coordinator.
  const sink: ProgressSink = (p) => task.progress?.postMessage(p);
  try {
    testFault(task.job.id);
    const t0 = performance.now();
    const outcome: Omit<JobOutcome, 'seconds'> =
      task.job.kind === 'train'
        ? { train: runTrainJob(task.job, task, init.dataset, info, sink) }
        : { results: runEvalJob(task.job, task, init.dataset, info, sink) };
    return { ...outcome, seconds: (performance.now() - t0) / 1000 };
  } finally {
    task.progress?.close();
  }
}
