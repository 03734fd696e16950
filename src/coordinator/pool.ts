/**
 * The worker-thread pool (piscina) as an Executor. Every worker gets the shared
 * dataset once (its SharedArrayBuffers are shared, not copied) and the backend
 * choice; each task carries a MessagePort on which the worker posts its progress
 * (piscina's examples/progress).
 */
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { SharedDataset } from '../data/shared.js';
import type { ExperimentConfig } from '../experiments/config.js';
import type { Job } from '../experiments/grid.js';
import type { BackendChoice, JobOutcome, JobProgress } from '../experiments/types.js';
import { workerScript } from '../workers/spawn.js';
import type { WorkerInit, WorkerTask } from '../workers/protocol.js';
import type { Executor } from './scheduler.js';
import { configureNativeThreads } from '../backend/native-env.js';

/** What a task needs besides its job: the run it belongs to. */
export interface TaskContext {
  config: ExperimentConfig;
  checkpointDir: string;
  versions: Record<string, string>;
}

export interface PoolOptions extends TaskContext {
  workers: number;
  dataset: SharedDataset;
  backend: BackendChoice;
}

export class WorkerPool implements Executor {
  private readonly piscina: Piscina;

  constructor(private readonly opts: PoolOptions) {
    // One TensorFlow thread per worker, so N workers use N cores. TensorFlow reads
    // these from the process environment, which only the main thread can set.
    configureNativeThreads();
    const script = workerScript('../workers/entry.js', import.meta.url);
    const init: WorkerInit = { dataset: opts.dataset, backend: opts.backend };
    this.piscina = new Piscina({
      filename: script.filename,
      argv: script.argv,
      minThreads: opts.workers,
      maxThreads: opts.workers,
      idleTimeout: 60_000,
      workerData: init,
    });
  }

  run(job: Job, onProgress: (p: JobProgress) => void): Promise<JobOutcome> {
    return this.runIn(this.opts, job, onProgress);
  }

  /** Runs a job of another run than the pool's own (a queue worker serves every run on its queue). */
  async runIn(context: TaskContext, job: Job, onProgress: (p: JobProgress) => void): Promise<JobOutcome> {
    const { port1, port2 } = new MessageChannel();
    port1.on('message', (p: JobProgress) => onProgress(p));
    const task: WorkerTask = { job, config: context.config, checkpointDir: context.checkpointDir, versions: context.versions, progress: port2 };
    try {
      return (await this.piscina.run(task, { transferList: [port2] })) as JobOutcome;
    } finally {
      // Progress still in flight after the outcome is of no use: drop it.
      port1.close();
    }
  }

  async close(): Promise<void> {
    await this.piscina.destroy();
  }
}
