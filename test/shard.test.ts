/**
 * --shard auto --shards N: the index from the array task's variable, the count
 * always given; every wrong combination is a usage error naming the variable or
 * option and what to do.
 */
import { describe, it, expect } from 'vitest';
import { resolveShard } from '../src/experiments/shard.js';
import { GlanceError } from '../src/errors.js';

function usage(f: () => unknown, message: RegExp, suggestion?: RegExp) {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(GlanceError);
    expect((e as GlanceError).code).toBe('BAD_OPTION');
    expect((e as GlanceError).message).toMatch(message);
    if (suggestion) expect((e as GlanceError).suggestion).toMatch(suggestion);
    return;
  }
  throw new Error('no error thrown');
}

describe('resolveShard', () => {
  it('takes i/n as given, or nothing', () => {
    expect(resolveShard(undefined, undefined, {})).toBeUndefined();
    expect(resolveShard('2/3', undefined, { SLURM_ARRAY_TASK_ID: '1' })).toEqual({ index: 2, count: 3 });
    expect(resolveShard('2/3', '3', {})).toEqual({ index: 2, count: 3 });
  });

  it('auto: Slurm array task ids are 1-based, Kubernetes completion indexes 0-based', () => {
    expect(resolveShard('auto', '4', { SLURM_ARRAY_TASK_ID: '4' })).toEqual({ index: 4, count: 4 });
    expect(resolveShard('auto', '4', { JOB_COMPLETION_INDEX: '0' })).toEqual({ index: 1, count: 4 });
    expect(resolveShard('auto', '4', { JOB_COMPLETION_INDEX: '3' })).toEqual({ index: 4, count: 4 });
    // SLURM_ARRAY_TASK_COUNT is what was submitted (a rerun of one task: 1), never the shard count.
    expect(resolveShard('auto', '4', { SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_COUNT: '1' })).toEqual({ index: 3, count: 4 });
  });

  it('auto without a count, or without an array task, says what to do', () => {
    usage(() => resolveShard('auto', undefined, { SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_COUNT: '2' }), /--shard auto needs --shards N/, /SLURM_ARRAY_TASK_COUNT is the number of tasks submitted/);
    usage(() => resolveShard('auto', '2', {}), /neither SLURM_ARRAY_TASK_ID .* nor JOB_COMPLETION_INDEX/, /sbatch --array=1-N.*--shard i\/N/);
    usage(() => resolveShard('auto', '2', { SLURM_ARRAY_TASK_ID: '' }), /neither SLURM_ARRAY_TASK_ID/);
  });

  it('an index outside the count names the variable and the array to submit', () => {
    usage(() => resolveShard('auto', '2', { SLURM_ARRAY_TASK_ID: '0' }), /SLURM_ARRAY_TASK_ID=0 is not a shard of 1\.\.2/, /--array=1-2; shards are 1-based/);
    usage(() => resolveShard('auto', '2', { SLURM_ARRAY_TASK_ID: '3' }), /SLURM_ARRAY_TASK_ID=3 is not a shard of 1\.\.2 \(--shards 2\)/);
    usage(() => resolveShard('auto', '2', { SLURM_ARRAY_TASK_ID: 'x' }), /SLURM_ARRAY_TASK_ID=x/);
    usage(() => resolveShard('auto', '4', { JOB_COMPLETION_INDEX: '4' }), /JOB_COMPLETION_INDEX=4 is not an index of 0\.\.3/, /completions to 4/);
  });

  it('a bad count, or --shards that disagrees with --shard i/n', () => {
    usage(() => resolveShard('auto', '0', { SLURM_ARRAY_TASK_ID: '1' }), /--shards: expected the number of shards/);
    usage(() => resolveShard('auto', 'two', { SLURM_ARRAY_TASK_ID: '1' }), /--shards: expected the number of shards.*"two"/);
    usage(() => resolveShard(undefined, '2', {}), /--shards 2 without --shard/, /--shard auto/);
    usage(() => resolveShard('1/2', '3', {}), /--shard 1\/2 and --shards 3 disagree/);
    usage(() => resolveShard('3/2', undefined, {}), /--shard: expected i\/n/);
  });
});
