import { describe, it, expect } from 'vitest';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunStore, runningFile, writeJson } from '../src/coordinator/store.js';
import { metaFile, readMeta, type Machine, type RunMeta } from '../src/coordinator/meta.js';
import { mergeStores } from '../src/coordinator/merge.js';
import { statusText } from '../src/coordinator/status.js';
import { PRESETS } from '../src/experiments/presets.js';
import { buildJobs, shardJobs } from '../src/experiments/grid.js';
import { GlanceError } from '../src/errors.js';

const config = PRESETS.smoke;
const machine = (cpu: string): Machine => ({ cpu, cores: 2, memoryBytes: 8 * 2 ** 30, os: 'Linux 6.1.0', arch: 'x64', node: '20.20.0' });
const meta = (shard?: { index: number; count: number }, m = machine('Test CPU')): RunMeta => ({
  splitSize: 10000,
  datasetFingerprint: 'test',
  command: `npx glance reproduce --preset smoke${shard ? ` --shard ${shard.index}/${shard.count}` : ''}`,
  shard,
  versions: {},
  commit: 'abc1234',
  machine: m,
});

/** A store of one --shard slice with every job of it recorded done (and a checkpoint file per training job). */
function shardStore(root: string, index: number, m?: Machine): string {
  const dir = join(root, `shard${index}`);
  const store = new RunStore(dir);
  store.open(config, false);
  writeJson(metaFile(dir), meta({ index, count: 2 }, m));
  for (const job of shardJobs(buildJobs(config, 10000), { index, count: 2 })) {
    store.append({ jobId: job.id, status: 'done', seconds: 1, attempt: 1, at: new Date().toISOString() });
    if (job.kind === 'train') writeFileSync(join(store.checkpointDir, `${job.model}-seed${job.seed}.json`), '{}');
  }
  return dir;
}

describe('glance merge and status', () => {
  it('merges the --shard slices of a run into a complete store', () => {
    const root = mkdtempSync(join(tmpdir(), 'glance-merge-'));
    const a = shardStore(root, 1);
    const b = shardStore(root, 2);
    expect(statusText(a)).toMatch(/smoke, \d+ jobs: \d+ done, 0 errored, 0 left/);
    const out = join(root, 'merged');
    mergeStores([a, b], out);
    const all = buildJobs(config, 10000);
    expect(statusText(out)).toContain(`${all.length} jobs: ${all.length} done, 0 errored, 0 left`);
    expect(existsSync(join(out, 'checkpoints', 'GlanceAgain-seed2.json'))).toBe(true);
    const merged = readMeta(out)!;
    expect(merged.shard).toBeUndefined();
    expect(merged.command).toBe('npx glance reproduce --preset smoke');
    expect(merged.machine).toEqual(machine('Test CPU'));
  });

  it('keeps the machine of every slice when they ran on different machines', () => {
    const root = mkdtempSync(join(tmpdir(), 'glance-merge-'));
    const out = join(root, 'merged');
    mergeStores([shardStore(root, 1, machine('CPU A')), shardStore(root, 2, machine('CPU B'))], out);
    const merged = readMeta(out)!;
    expect(merged.machine).toBeUndefined();
    expect(merged.machines).toEqual([machine('CPU A'), machine('CPU B')]);
  });

  it('refuses to merge stores of different experiments', () => {
    const root = mkdtempSync(join(tmpdir(), 'glance-merge-'));
    const a = shardStore(root, 1);
    const other = join(root, 'other');
    new RunStore(other).open({ ...config, seeds: [7] }, false);
    expect(() => mergeStores([a, other], join(root, 'x'))).toThrow(GlanceError);
    expect(() => mergeStores([a, other], join(root, 'x'))).toThrow(/different experiment.*seeds: stored \[1,2\], now \[7\]/);
  });

  it('status lists errored jobs and what is left', () => {
    const root = mkdtempSync(join(tmpdir(), 'glance-status-'));
    const store = new RunStore(root);
    store.open(config, false);
    writeJson(metaFile(root), meta());
    store.append({ jobId: 'train/NormalNet/seed1', status: 'done', seconds: 1, attempt: 1, at: 'x' });
    store.append({ jobId: 'train/AdvNet/seed1', status: 'errored', error: 'Error: out of cheese\n  at x', attempt: 2, at: 'x' });
    const text = statusText(root);
    const total = buildJobs(config, 10000).length;
    expect(text).toContain(`${total} jobs: 1 done, 1 errored, ${total - 2} left`);
    expect(text).toContain('errored train/AdvNet/seed1: Error: out of cheese');
    expect(() => statusText(join(root, 'nope'))).toThrow(/not a run directory/);
    // A run in progress says what runs; a stale running.json (dead pid) is ignored.
    writeJson(runningFile(root), { pid: process.pid, jobs: ['train/GlanceAgain/seed1'] });
    expect(statusText(root)).toContain(`in progress (pid ${process.pid}), running: train/GlanceAgain/seed1`);
    writeJson(runningFile(root), { pid: 2 ** 22 + 12345, jobs: ['x'] });
    expect(statusText(root)).not.toContain('in progress');
  });
});
