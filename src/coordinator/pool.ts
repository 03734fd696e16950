/**
 * The worker-thread pool (piscina) as an Executor. Every worker gets the shared
 * dataset once (its SharedArrayBuffers are shared, not copied) and the backend
 * choice; each task gets a MessagePort over which the worker's progress calls
 * arrive through comlink.
 */
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import * as Comlink from 'comlink/dist/esm/comlink.mjs';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import type { SharedDataset } from '../data/shared.js';
import type { ExperimentConfig } from '../experiments/config.js';
import type { Job } from '../experiments/grid.js';
import type { BackendChoice, BackendInfo } from '../experiments/types.js';
import { workerScript } from '../workers/spawn.js';
import type { BackendQuery, JobOutcome, JobProgress, WorkerInit, WorkerTask } from '../workers/protocol.js';
import type { Executor } from './scheduler.js';

export interface PoolOptions {
  workers: number;
  dataset: SharedDataset;
  backend: BackendChoice;
  config: ExperimentConfig;
  checkpointDir: string;
  versions: Record<string, string>;
}

export class WorkerPool implements Executor {
  private readonly piscina: Piscina;
  private config: ExperimentConfig;

  constructor(private readonly opts: PoolOptions) {
    this.config = opts.config;
    // One TensorFlow thread per worker, so N workers use N cores. TensorFlow reads
    // these from the process environment, which only the main thread can set.
    process.env.TF_NUM_INTRAOP_THREADS ??= '1';
    process.env.TF_NUM_INTEROP_THREADS ??= '1';
    process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
    const script = workerScript('../workers/entry.js', import.meta.url);
    const init: WorkerInit = { dataset: opts.dataset, backend: opts.backend, initLock: new SharedArrayBuffer(4) };
    this.piscina = new Piscina({
      filename: script.filename,
      argv: script.argv,
      minThreads: opts.workers,
      maxThreads: opts.workers,
      idleTimeout: 60_000,
      workerData: init,
    });
  }

  /** The config the tasks carry (a run's, once --pack auto is resolved). */
  setConfig(config: ExperimentConfig): void {
    this.config = config;
  }

  async run(job: Job, onProgress: (p: JobProgress) => void): Promise<JobOutcome> {
    const { port1, port2 } = new MessageChannel();
    Comlink.expose({ progress: (p: JobProgress) => onProgress(p) }, nodeEndpoint(port1));
    const task: WorkerTask = {
      job,
      config: this.config,
      checkpointDir: this.opts.checkpointDir,
      versions: this.opts.versions,
      progress: port2,
    };
    try {
      return (await this.piscina.run(task, { transferList: [port2] })) as JobOutcome;
    } finally {
      port1.close();
    }
  }

  /** The backend the workers use (a worker selects it, as for a job). */
  async backend(): Promise<BackendInfo> {
    const query: BackendQuery = { query: 'backend' };
    return (await this.piscina.run(query)) as BackendInfo;
  }

  async close(): Promise<void> {
    await this.piscina.destroy();
  }
}
