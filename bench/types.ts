/**
 * The bench's plain data: what a worker is asked to measure, what it answers,
 * and the whole run as written to bench/results.json. A failed measurement is a
 * result with state 'errored' (or a backend/peer 'skipped' with its reason), never
 * a crash of the run.
 */
import type { AttackSpec } from '../src/attacks/attack.js';
import type { SharedDataset } from '../src/data/shared.js';
import type { BackendInfo, BackendName, ModelName } from '../src/experiments/types.js';

/** The prefix of the one stdout line by which a child process answers (bench/child.ts). */
export const RESULT_MARK = 'BENCH_RESULT ';

/** Training throughput of one model: a warm-up call, then `reps` epochs over the first `limit` images. */
export interface TrainTask {
  kind: 'train';
  model: ModelName;
  batchSize: number;
  /** Target seconds per repetition (sets `limit` from the warm-up rate) ... */
  seconds: number;
  /** ... unless the limit is given (the pool runs the same job in every worker). */
  limit?: number;
  /** Fewest batches per repetition. */
  minBatches: number;
  reps: number;
  /** Images of the warm-up call (per seed for a pack). */
  warmupImages: number;
  /**
   * Seeds trained as one packed computation (trainPacked, as a run's --pack does);
   * absent or 1: one seed through trainNet. `limit` and `warmupImages` count the
   * images each seed sees; the rates count replicate-samples (pack x images).
   */
  pack?: number;
}

/** Attack throughput on the test split at the evaluation batch size, on a model trained for a moment. */
export interface AttackTask {
  kind: 'attack';
  model: ModelName;
  /** Short name in tables: fgsm, eot-fgsm-10, pgd-40, clean. */
  label: string;
  attack: AttackSpec;
  batchSize: number;
  /** Target seconds per repetition; at least one batch. */
  seconds: number;
  /** Most batches per repetition. */
  maxBatches: number;
  reps: number;
  /** Training images for the model under attack (its weights barely matter for speed). */
  trainImages: number;
}

export type Task = TrainTask | AttackTask;

/** What a worker thread starts with. */
export interface WorkerInit {
  backend: BackendName;
  dataset: SharedDataset;
}

/** A task for a worker; `barrier` (pool runs) holds the workers until all have warmed up. */
export interface WorkerRequest {
  id: number;
  task: Task;
  barrier?: SharedArrayBuffer;
  workers?: number;
}

/** Memory of the process as seen from a worker right after a task, in MB. */
export interface MemorySample {
  rssMB: number;
  /** This worker's V8 heap and its external/ArrayBuffer memory (wasm memory included). */
  heapMB: number;
  externalMB: number;
}

export interface Timed {
  /** Rate per repetition, wall clock. */
  perSec: number[];
  /** Rate per repetition per process-CPU second (single-worker runs only: the process is that worker). */
  perCpuSec: number[];
  /** Wall-clock span of all repetitions, absolute ms (performance.timeOrigin + now), for pool runs. */
  start: number;
  end: number;
  /** Process CPU seconds at start and end (pool runs: the CPU the workers together got). */
  cpuStart: number;
  cpuEnd: number;
}

export type Measurement =
  | ({ state: 'completed'; kind: 'train'; model: ModelName; limit: number; reps: number; memory: MemorySample; /** Seeds packed; absent: one (files before packing was measured). */ pack?: number } & Timed)
  | ({ state: 'completed'; kind: 'attack'; model: ModelName; label: string; images: number; reps: number; memory: MemorySample } & Timed)
  | { state: 'errored'; kind: Task['kind']; model: ModelName; label?: string; pack?: number; error: string };

export type WorkerReply =
  | { id: -1; ready: BackendInfo }
  | { id: -1; failed: string }
  | { id: number; result: Measurement };

/** A child process's job: one backend, its worker(s), and what to measure. */
export type ChildJob =
  | { mode: 'single'; backend: BackendName; tasks: Task[] }
  | { mode: 'pool'; backend: BackendName; workers: number; tasks: TrainTask[] };

/** One training job run in `workers` threads at once (one pool child process). */
export interface PoolRun {
  model: ModelName;
  workers: number;
  /** Training images per repetition (the same in every worker and pool size). */
  limit: number;
  /** Images per second of all workers together, over the span from the barrier to the last worker done. */
  aggregate: number;
  /** Each worker's median rate. */
  perWorker: number[];
  /** Process CPU seconds per wall second over the span: the cores the workers actually got (other load takes the rest). */
  coresUsed: number;
}

export interface PoolPoint extends PoolRun {
  /** aggregate / (workers x aggregate with one worker). */
  efficiency: number;
  /** The same ratio per CPU-second: (aggregate / coresUsed) / (its value with one worker); below 1 when the code scales worse than the cores it got. */
  cpuEfficiency: number;
  /** Peak RSS of the pool's process minus its RSS before the workers started, per worker, MB (over all of that process's jobs). */
  peakRssPerWorkerMB: number;
}

export type ChildResult =
  | { state: 'skipped'; backend: BackendName; reason: string }
  | {
      state: 'completed';
      backend: BackendName;
      info: BackendInfo;
      mode: 'single';
      measurements: Measurement[];
      /** Process RSS before the worker started and the process's peak RSS, MB. */
      baselineRssMB: number;
      maxRssMB: number;
    }
  | {
      state: 'completed';
      backend: BackendName;
      info: BackendInfo;
      mode: 'pool';
      workers: number;
      runs: Array<PoolRun | { model: ModelName; error: string }>;
      baselineRssMB: number;
      maxRssMB: number;
    };

export type PeerName = 'pytorch' | 'tensorflow' | 'jax';

export type PeerResult =
  | { state: 'skipped'; peer: PeerName; reason: string }
  | {
      state: 'completed';
      peer: PeerName;
      python: string;
      /** What setup.sh added to the peer's environment (PyTorch: LD_LIBRARY_PATH with OpenBLAS first). */
      env?: Record<string, string>;
      versions: Record<string, string>;
      threads: Record<string, string | number>;
      /** The BLAS shared objects mapped in the peer's process after its first matmul (/proc/self/maps), and the BLAS's own config string when it has one. */
      blas?: { loaded: Array<{ path: string; realpath: string }>; config?: string };
      models: Partial<Record<ModelName, { samplesPerSec: number[]; cpuSamplesPerSec: number[]; stepsPerRep: number } | { error: string }>>;
    };
