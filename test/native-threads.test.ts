/**
 * Worker threads on the native backend: tfjs-node's addon is loaded once per
 * process, and it keeps every op attribute name in one process-wide std::set,
 * inserted into on every op without a lock. Two workers running their first ops
 * at once corrupt it (SIGSEGV in AssignOpAttr). npm run native applies
 * scripts/native/patches/tfjs-node-4.22.0-attr-name-set-mutex.patch to the addon
 * source before building it. Only for an addon that script built; an
 * npm-installed tfjs-node cannot be patched.
 */
import { describe, expect, it } from 'vitest';
import { runChild } from '../bench/spawn.js';
import type { TrainTask } from '../bench/types.js';
import { nativeAddonPatches } from '../src/backend/probe.js';
import { nativeStatus } from './fixtures/native-status.js';

const native = nativeStatus();
/** The marker npm run native leaves lists its patches; a tfjs-node npm installed has none. */
const ours = native.built && nativeAddonPatches() !== undefined;

describe.skipIf(!ours)('native backend in worker threads (addon built by npm run native)', () => {
  it('the addon was built with the attr-name-set-mutex patch (what glance doctor reports)', () => {
    expect(nativeAddonPatches()).toContain('attr-name-set-mutex');
  });

  it('two workers starting native training at the same moment do not crash the process (8 starts)', async () => {
    // The bench's pool job, shortened: unpatched, 5 of 12 such starts crashed (2 of 12 with 1,280 images
    // and one repetition, so the test would rarely see it), patched 0 of 30.
    const task: TrainTask = { kind: 'train', model: 'NormalNet', batchSize: 64, seconds: 3, limit: 6400, minBatches: 4, reps: 3, warmupImages: 2048 };
    for (let i = 0; i < 8; i++) {
      const r = await runChild({ mode: 'pool', backend: 'node', workers: 2, tasks: [task] });
      expect(r.state, r.state === 'skipped' ? r.reason : '').toBe('completed');
    }
  }, 180_000);
});

describe.skipIf(ours)('nativeAddonPatches without an addon built by npm run native', () => {
  it('is undefined', () => {
    expect(nativeAddonPatches()).toBeUndefined();
  });
});
