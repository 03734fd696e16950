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
  /** Images of the warm-up call. */
  warmupImages: number;
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

/** What a worker thread starts with; `stockKernels`: names of tfjs's kernels to fingerprint (KernelProbe). */
export interface WorkerInit {
  backend: BackendName;
  dataset: SharedDataset;
  stockKernels?: string[];
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
  | ({ state: 'completed'; kind: 'train'; model: ModelName; limit: number; reps: number; memory: MemorySample } & Timed)
  | ({ state: 'completed'; kind: 'attack'; model: ModelName; label: string; images: number; reps: number; memory: MemorySample } & Timed)
  | { state: 'errored'; kind: Task['kind']; model: ModelName; label?: string; error: string };

/**
 * The fast kernels a worker's backend has, as registered in its thread: `fast`, our
 * ops (src/ops/) whose kernel on this backend is not the reference kernel; and a
 * fingerprint of the kernel function of each of those and of each stock kernel
 * asked about, so that a run with GLANCE_DISABLE_KERNELS can be checked to have
 * really run other kernels.
 */
export interface KernelProbe {
  fast: string[];
  fingerprints: Record<string, string>;
}

export type WorkerReply =
  | { id: -1; ready: BackendInfo; kernels: KernelProbe }
  | { id: -1; failed: string }
  | { id: number; result: Measurement };

/**
 * A child process's job: one backend, its worker(s), and what to measure. `disable`:
 * the fast kernels switched off in that process (GLANCE_DISABLE_KERNELS), for the
 * kernel ablation; `stockKernels` as in WorkerInit.
 */
export type ChildJob =
  | { mode: 'single'; backend: BackendName; tasks: Task[]; disable?: string[]; stockKernels?: string[] }
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
      /** The worker's kernels (absent in results from before the kernel ablation). */
      kernels?: KernelProbe;
      /** GLANCE_DISABLE_KERNELS of the process, when set. */
      disabled?: string[];
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

/** One child process of the kernel ablation: every fast kernel on, or one entry's kernels off. */
export interface AblationRun {
  backend: BackendName;
  /** 'on', or the label of the entry switched off (plan.ts kernelEntries). */
  config: string;
  /** GLANCE_DISABLE_KERNELS of the run; empty when on. */
  disable: string[];
  result: ChildResult;
}
