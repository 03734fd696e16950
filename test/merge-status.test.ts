import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
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
function shardStore(root: string, index: number, m?: Machine, count = 2, skip = 0): string {
  const dir = join(root, `shard${index}`);
  const store = new RunStore(dir);
  store.open(config, false);
  writeJson(metaFile(dir), meta({ index, count }, m));
  for (const job of shardJobs(buildJobs(config, 10000), { index, count }).slice(0, skip ? -skip : undefined)) {
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

  it('refuses a missing shard, shards of different splits and other data, writing nothing', () => {
    const root = mkdtempSync(join(tmpdir(), 'glance-merge-'));
    const a = shardStore(root, 1);
    const out = join(root, 'merged');
    expect(() => mergeStores([a], out)).toThrow(/shard 2 of 2 missing: the stores given are shard 1 of 2/);
    expect(() => mergeStores([a, join(root, 'shard2')], out)).toThrow(/shard2 holds no run \(no config.json\): a shard that never started/);
    try {
      mergeStores([a], out);
    } catch (e) {
      expect((e as GlanceError).code).toBe('STORE_INCOMPLETE');
      expect((e as GlanceError).suggestion).toMatch(/--partial/);
    }
    const three = shardStore(mkdtempSync(join(tmpdir(), 'glance-merge-')), 2, undefined, 3);
    expect(() => mergeStores([a, three], out)).toThrow(/shards of different splits: .*shard1 is shard 1\/2, .*shard2 is shard 2\/3/);
    const b = shardStore(mkdtempSync(join(tmpdir(), 'glance-merge-')), 2);
    writeJson(metaFile(b), { ...meta({ index: 2, count: 2 }), datasetFingerprint: 'other' });
    expect(() => mergeStores([a, b], out)).toThrow(/ran on other data .*fingerprint other, not test/);
    expect(existsSync(out)).toBe(false);
  });

  it('--partial merges what is there and tells which shards have jobs left', () => {
    const root = mkdtempSync(join(tmpdir(), 'glance-merge-'));
    const a = shardStore(root, 1);
    const b = shardStore(root, 2, undefined, 2, 3);
    const whole = mergeStores([a, b], join(root, 'm1'));
    expect(whole.shards).toEqual({ count: 2, merged: [1, 2], absent: [], incomplete: [{ index: 2, left: 3, errored: 0 }] });
    expect(whole.grid?.missing).toHaveLength(3);
    const some = mergeStores([a, join(root, 'nope')], join(root, 'm2'), { partial: true });
    expect(some.skipped).toEqual([join(root, 'nope')]);
    expect(some.shards?.absent).toEqual([2]);
    expect(some.grid!.missing.length).toBeGreaterThan(0);
    expect(() => mergeStores([join(root, 'nope')], join(root, 'm3'), { partial: true })).toThrow(/nothing to merge/);
  });

  it('glance merge exits non-zero on jobs not done, names the shard, and still writes the partial report', () => {
    const root = mkdtempSync(join(tmpdir(), 'glance-merge-'));
    const a = shardStore(root, 1);
    const b = shardStore(root, 2, undefined, 2, 3);
    const cli = fileURLToPath(new URL('../src/cli/index.ts', import.meta.url));
    const merge = (...args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', cli, 'merge', a, b, '--out', join(root, 'merged'), '--reports', join(root, 'reports'), ...args], { encoding: 'utf8', timeout: 60_000 });
    const r = merge();
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/report \(partial\): .*reports\/merged\/report.md/);
    expect(r.stderr).toMatch(/error: the merge is incomplete: 3 of \d+ jobs not done \(shard 2\/2: 3 jobs not done\)/);
    expect(r.stderr).toMatch(/what to do: rerun those shards/);
    const p = merge('--partial');
    expect(p.status, p.stderr).toBe(0);
    expect(p.stdout).toMatch(/partial: 3 of \d+ jobs not done/);
  });

  it('a --stage train slice counts its training jobs, and its merge strips the slice from the command', () => {
    const root = mkdtempSync(join(tmpdir(), 'glance-stage-'));
    const dir = join(root, 'shard1');
    new RunStore(dir).open(config, false);
    writeJson(metaFile(dir), { ...meta({ index: 1, count: 2 }), stage: 'train', command: 'npx glance run --config c.json --shard auto --shards 2 --stage train --out x' });
    const trains = shardJobs(buildJobs(config, 10000), { index: 1, count: 2 }).filter((j) => j.kind === 'train');
    expect(statusText(dir)).toContain(`${trains.length} jobs: 0 done`);
    expect(statusText(dir)).toContain('started with --stage train');
    mergeStores([dir, shardStore(root, 2)], join(root, 'merged'));
    const merged = readMeta(join(root, 'merged'))!;
    expect(merged.stage).toBeUndefined();
    expect(merged.command).toBe('npx glance run --config c.json');
  });

  it('status lists errored jobs and what is left', () => {
    const root = mkdtempSync(join(tmpdir(), 'glance-status-'));
    const store = new RunStore(root);
    store.open(config, false);
    writeJson(metaFile(root), meta());
    store.append({ jobId: 'train/NormalNet/seed1', status: 'done', seconds: 1, attempt: 1, at: 'x' });
    store.append({ jobId: 'train/AdvNet@pixel/seed1', status: 'errored', error: 'Error: out of cheese\n  at x', attempt: 2, at: 'x' });
    const text = statusText(root);
    const total = buildJobs(config, 10000).length;
    expect(text).toContain(`${total} jobs: 1 done, 1 errored, ${total - 2} left`);
    expect(text).toContain('errored train/AdvNet@pixel/seed1: Error: out of cheese');
    expect(() => statusText(join(root, 'nope'))).toThrow(/not a run directory/);
    // A run in progress says what runs (a running.json of an older glance lists bare ids); a dead pid means the coordinator died.
    writeJson(runningFile(root), { pid: process.pid, jobs: ['train/GlanceAgain/seed1'] });
    expect(statusText(root)).toMatch(new RegExp(`running \\(pid ${process.pid}\\) for .*\\n    train/GlanceAgain/seed1: starting`));
    writeJson(runningFile(root), { pid: 2 ** 22 + 12345, jobs: ['x'] });
    expect(statusText(root)).not.toContain('running (pid');
    expect(statusText(root)).toMatch(/died: its coordinator \(pid \d+\) is gone/);
  });
});
