/**
 * A bench worker thread: selects its backend once (a thread holds one backend),
 * views the shared dataset, then runs one measurement per message and answers
 * with plain data. A failing task is answered as an errored measurement.
 */
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { selectBackend } from '../src/backend/select.js';
import { splitView } from '../src/data/shared.js';
import { measureAttack, measureTraining } from './measures.js';
import type { KernelProbe, Measurement, WorkerInit, WorkerReply, WorkerRequest } from './types.js';

const init = workerData as WorkerInit;
const port = parentPort!;
const reply = (r: WorkerReply) => port.postMessage(r);

/** Kernel names of our ops (src/ops/) start with this. */
const OUR_OPS = 'Glance';

/**
 * The kernels of the active backend as registered in this thread. Each op of ours
 * registers one reference kernel function for every backend, so a kernel that is not
 * cpu's function is a backend's fast kernel.
 */
function probeKernels(stock: readonly string[]): KernelProbe {
  const backend = tf.getBackend();
  const fingerprint = (f: unknown) => createHash('sha256').update(String(f)).digest('hex').slice(0, 12);
  const ours = tf.getKernelsForBackend(backend).map((k) => k.kernelName).filter((n) => n.startsWith(OUR_OPS));
  const fast = ours.filter((n) => tf.getKernel(n, backend)?.kernelFunc !== tf.getKernel(n, 'cpu')?.kernelFunc).sort();
  const fingerprints: Record<string, string> = {};
  for (const n of [...ours, ...stock]) {
    const k = tf.getKernel(n, backend);
    if (k) fingerprints[n] = fingerprint(k.kernelFunc);
  }
  return { fast, fingerprints };
}

try {
  const info = await selectBackend(init.backend);
  const kernels = probeKernels(init.stockKernels ?? []);
  const train = splitView(init.dataset, 'train');
  const test = splitView(init.dataset, 'test');
  port.on('message', ({ id, task, barrier, workers }: WorkerRequest) => {
    let result: Measurement;
    try {
      result = task.kind === 'train' ? measureTraining(train, task, barrier, workers) : measureAttack(train, test, task);
    } catch (e) {
      const error = e instanceof Error ? `${e.message.split('\n')[0]}` : String(e);
      result = { state: 'errored', kind: task.kind, model: task.model, ...(task.kind === 'attack' ? { label: task.label } : {}), error };
    }
    reply({ id, result });
  });
  reply({ id: -1, ready: info, kernels });
} catch (e) {
  reply({ id: -1, failed: e instanceof Error ? e.message : String(e) });
}
