import { describe, it, expect, beforeEach } from 'vitest';
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunStore } from '../src/coordinator/store.js';
import { runJobs, type Executor } from '../src/coordinator/scheduler.js';
import { PRESETS } from '../src/experiments/presets.js';
import type { Job } from '../src/experiments/grid.js';
import { GlanceError } from '../src/errors.js';

const config = PRESETS.smoke;
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'glance-store-'));
});

const job = (id: string, deps: string[] = []): Job => ({ kind: 'train', id, model: 'NormalNet', seed: 1, deps });

/** An executor that records what it ran and fails the ids it is told to. */
function fakeExecutor(fail: Record<string, number> = {}): Executor & { ran: string[] } {
  const ran: string[] = [];
  return {
    ran,
    async run(j) {
      ran.push(j.id);
      await new Promise((r) => setTimeout(r, 1));
      if ((fail[j.id] ?? 0) > 0) {
        fail[j.id]--;
        throw new Error(`boom in ${j.id}`);
      }
      return { seconds: 0.01 };
    },
  };
}

describe('run store', () => {
  it('appends lines and reads them back; drops (and truncates away) a torn last line', () => {
    const store = new RunStore(dir);
    store.open(config, false);
    store.append({ jobId: 'a', status: 'done', seconds: 1, attempt: 1, at: 'now' });
    store.append({ jobId: 'b', status: 'done', seconds: 1, attempt: 1, at: 'now' });
    appendFileSync(store.resultsFile, '{"jobId":"c","status":"do');
    const state = store.read();
    expect([...state.lines.keys()]).toEqual(['a', 'b']);
    expect(state.droppedTornLine).toBe(true);
    store.append({ jobId: 'c', status: 'done', seconds: 1, attempt: 1, at: 'now' });
    expect([...store.read().lines.keys()]).toEqual(['a', 'b', 'c']);
    expect(readFileSync(store.resultsFile, 'utf8').trim().split('\n')).toHaveLength(3);
  });

  it('refuses damage that is not a torn last line', () => {
    const store = new RunStore(dir);
    store.open(config, false);
    writeFileSync(store.resultsFile, '{"jobId":"a"\n{"jobId":"b","status":"done"}\n');
    expect(() => store.read()).toThrow(/not valid JSON and is not the last line/);
  });

  it('refuses to resume a different experiment, unless --force-new', () => {
    new RunStore(dir).open(config, false);
    const other = { ...config, eps: [0.2] };
    expect(() => new RunStore(dir).open(other, false)).toThrow(GlanceError);
    expect(() => new RunStore(dir).open(other, false)).toThrow(/different experiment \(eps: stored \[0.1,0.3\], now \[0.2\]\)/);
    expect(() => new RunStore(dir).open(other, true)).not.toThrow();
    expect(new RunStore(dir).readConfig().eps).toEqual([0.2]);
  });
});

describe('scheduler', () => {
  it('runs dependencies first and stores every finished job', async () => {
    const store = new RunStore(dir);
    const exec = fakeExecutor();
    const jobs = [job('c', ['b']), job('b', ['a']), job('a')];
    const s = await runJobs(jobs, store, store.open(config, false), exec, { retries: 1 });
    expect(exec.ran).toEqual(['a', 'b', 'c']);
    expect(s).toMatchObject({ total: 3, done: 3, ranNow: 3, errored: [], blocked: [] });
    expect([...store.read().lines.keys()]).toEqual(['a', 'b', 'c']);
  });

  it('skips stored jobs on resume and never runs a finished job twice', async () => {
    const store = new RunStore(dir);
    const jobs = [job('a'), job('b', ['a']), job('c')];
    await runJobs(jobs.slice(0, 1), store, store.open(config, false), fakeExecutor(), { retries: 1 });
    const exec = fakeExecutor();
    const s = await runJobs(jobs, store, store.open(config, false), exec, { retries: 1 });
    expect(exec.ran.sort()).toEqual(['b', 'c']);
    expect(s).toMatchObject({ skipped: 1, ranNow: 2, done: 3 });
  });

  it('retries a failing job once, records each error, and goes on with the rest', async () => {
    const store = new RunStore(dir);
    const exec = fakeExecutor({ flaky: 1, broken: 5 });
    const jobs = [job('flaky'), job('broken'), job('after-broken', ['broken']), job('fine')];
    const s = await runJobs(jobs, store, store.open(config, false), exec, { retries: 1 });
    expect(s.errored).toEqual(['broken']);
    expect(s.blocked).toEqual(['after-broken']);
    expect(s.done).toBe(2);
    const lines = readFileSync(store.resultsFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.filter((l) => l.jobId === 'broken').map((l) => [l.status, l.attempt])).toEqual([
      ['errored', 1],
      ['errored', 2],
    ]);
    expect(lines.find((l) => l.jobId === 'broken').error).toMatch(/boom in broken/);
    expect(store.read().lines.get('flaky')!.status).toBe('done');
  });

  it('stops starting jobs when aborted and keeps what finished', async () => {
    const store = new RunStore(dir);
    const abort = new AbortController();
    const exec: Executor = {
      async run(j) {
        if (j.id === 'a') abort.abort();
        return { seconds: 0 };
      },
    };
    const s = await runJobs([job('a'), job('b', ['a'])], store, store.open(config, false), exec, { retries: 1, signal: abort.signal });
    expect(s.interrupted).toBe(true);
    expect([...store.read().lines.keys()]).toEqual(['a']);
  });
});
