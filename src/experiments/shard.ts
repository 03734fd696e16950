/**
 * Which slice of the job grid a process runs: `--shard i/n`, or `--shard auto
 * --shards n` inside an array job, where the engine sets the index. Pure: the
 * environment is passed in.
 *
 * The count is never read from the engine: SLURM_ARRAY_TASK_COUNT counts the
 * tasks submitted (a rerun of `--array=2` has a count of 1), so it would
 * silently select another slice of the grid.
 */
import { GlanceError } from '../errors.js';
import { parseShard } from './validate.js';

export interface Shard {
  /** 1-based. */
  index: number;
  count: number;
}

const usage = (message: string, suggestion: string) => new GlanceError('BAD_OPTION', message, suggestion);

function parseCount(text: string): number {
  const n = /^\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!Number.isInteger(n) || n < 1) throw usage(`--shards: expected the number of shards (an integer >= 1), got ${JSON.stringify(text)}`, 'pass --shards N, the size of the array (sbatch --array=1-N; a Kubernetes Job\'s completions)');
  return n;
}

/** The task's shard from the engine's variable: Slurm's is 1-based (submit --array=1-N), Kubernetes' 0-based. */
function indexFromEnv(env: Record<string, string | undefined>, count: number): number {
  const slurm = env.SLURM_ARRAY_TASK_ID;
  const k8s = env.JOB_COMPLETION_INDEX;
  if (slurm !== undefined && slurm !== '') {
    const i = /^\d+$/.test(slurm.trim()) ? Number(slurm) : NaN;
    if (!(i >= 1 && i <= count)) {
      throw usage(
        `--shard auto: SLURM_ARRAY_TASK_ID=${slurm} is not a shard of 1..${count} (--shards ${count})`,
        `submit the array with indices in 1-${count} (sbatch --array=1-${count}; shards are 1-based), or give --shards the array's size`,
      );
    }
    return i;
  }
  if (k8s !== undefined && k8s !== '') {
    const i = /^\d+$/.test(k8s.trim()) ? Number(k8s) + 1 : NaN;
    if (!(i >= 1 && i <= count)) {
      throw usage(
        `--shard auto: JOB_COMPLETION_INDEX=${k8s} is not an index of 0..${count - 1} (--shards ${count})`,
        `set the Job's completions to ${count} with completionMode: Indexed, or give --shards the Job's completions`,
      );
    }
    return i;
  }
  throw usage(
    '--shard auto: neither SLURM_ARRAY_TASK_ID (a Slurm array task) nor JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) is set',
    'run it as an array task (sbatch --array=1-N; glance slurm writes the scripts), or outside an array pass --shard i/N',
  );
}

/**
 * `--shard` and `--shards` as given (undefined when absent) to the shard this
 * process runs, or undefined for the whole grid.
 */
export function resolveShard(shard: string | undefined, shards: string | undefined, env: Record<string, string | undefined>): Shard | undefined {
  if (shard === undefined) {
    if (shards !== undefined) throw usage(`--shards ${shards} without --shard`, 'add --shard auto (the index from the array task) or --shard i/N');
    return undefined;
  }
  if (shard.trim() === 'auto') {
    if (shards === undefined) {
      throw usage(
        '--shard auto needs --shards N, the number of shards',
        'pass --shards N explicitly: SLURM_ARRAY_TASK_COUNT is the number of tasks submitted, not the number of shards, when only some are rerun',
      );
    }
    const count = parseCount(shards);
    return { index: indexFromEnv(env, count), count };
  }
  const parsed = parseShard(shard);
  if (shards !== undefined && parseCount(shards) !== parsed.count) {
    throw usage(`--shard ${shard} and --shards ${shards} disagree on the number of shards`, `drop --shards, or use --shard auto --shards ${shards}`);
  }
  return parsed;
}
