/**
 * A bench worker thread: selects its backend once (a thread holds one backend),
 * views the shared dataset, then runs one measurement per message and answers
 * with plain data. A failing task is answered as an errored measurement.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { selectBackend } from '../src/backend/select.js';
import { splitView } from '../src/data/shared.js';
import { measureAttack, measureTraining } from './measures.js';
import type { Measurement, WorkerInit, WorkerReply, WorkerRequest } from './types.js';

const init = workerData as WorkerInit;
const port = parentPort!;
const reply = (r: WorkerReply) => port.postMessage(r);

try {
  const info = await selectBackend(init.backend);
  const train = splitView(init.dataset, 'train');
  const test = splitView(init.dataset, 'test');
  port.on('message', ({ id, task, barrier, workers }: WorkerRequest) => {
    let result: Measurement;
    try {
      result = task.kind === 'train' ? measureTraining(train, task, barrier, workers) : measureAttack(train, test, task);
    } catch (e) {
      const error = e instanceof Error ? `${e.message.split('\n')[0]}` : String(e);
      result = { state: 'errored', kind: task.kind, model: task.model, ...(task.kind === 'attack' ? { label: task.label } : task.pack ? { pack: task.pack } : {}), error };
    }
    reply({ id, result });
  });
  reply({ id: -1, ready: info });
} catch (e) {
  reply({ id: -1, failed: e instanceof Error ? e.message : String(e) });
}
