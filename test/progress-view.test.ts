/**
 * What the progress display writes for each kind of output: a heartbeat line
 * every 30 s in a pipe while a job runs (none while nothing runs), the ETA in a
 * terminal's overall bar, versioned JSON events on their own stream, the mode
 * chosen from the terminal and the environment; and the report's memory budget
 * for per-example bits (over it, the bits are left out and the protocol says so).
 */
import { describe, it, expect, vi, afterEach } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { ProgressView, progressMode } from '../src/coordinator/progress.js';
import { RunStore } from '../src/coordinator/store.js';
import { writeRunReport } from '../src/coordinator/write-report.js';
import { buildJobs, type EvalJob } from '../src/experiments/grid.js';
import { encodeBits } from '../src/experiments/example-bits.js';
import { PRESETS } from '../src/experiments/presets.js';
import type { ExperimentConfig } from '../src/experiments/config.js';

const config = { ...PRESETS.smoke, seeds: [1] } as ExperimentConfig;
const jobs = buildJobs(config, 10000);

function capture() {
  const s = new PassThrough();
  let text = '';
  s.on('data', (d: Buffer) => (text += d.toString()));
  return { s, text: () => text };
}

afterEach(() => vi.useRealTimers());

describe('ProgressView', () => {
  it('in a pipe, a heartbeat every 30 s while a job runs, with the ETA and the job', () => {
    vi.useFakeTimers();
    const out = capture();
    const view = new ProgressView('plain', { out: out.s, eta: { jobs, config, workers: 1, stored: new Map() } });
    view.handle({ type: 'start', total: jobs.length, done: 0, toRun: jobs.length });
    vi.advanceTimersByTime(31_000);
    expect(out.text()).not.toMatch(/running:/);
    view.handle({ type: 'job-start', job: jobs[0], attempt: 1 });
    view.handle({ type: 'job-progress', job: jobs[0], progress: { fraction: 0.5, detail: 'epoch 1/1', samplesPerSec: 1234 } });
    vi.advanceTimersByTime(30_000);
    expect(out.text()).toMatch(new RegExp(`0/${jobs.length} jobs, ETA \\S+; running: ${jobs[0].id} epoch 1/1 1234/s`));
    expect(out.text()).not.toContain('\x1b');
    view.handle({ type: 'end', summary: { total: jobs.length, done: 0, ranNow: 0, skipped: 0, errored: [], blocked: [], interrupted: true, seconds: 61 } });
    const before = out.text();
    vi.advanceTimersByTime(120_000);
    expect(out.text()).toBe(before);
  });

  it('in a terminal, the overall bar carries the whole-run ETA', () => {
    const out = capture();
    const view = new ProgressView('tty', { out: out.s, eta: { jobs, config, workers: 1, stored: new Map() } });
    view.handle({ type: 'start', total: jobs.length, done: 0, toRun: jobs.length });
    view.handle({ type: 'job-start', job: jobs[0], attempt: 1 });
    expect(out.text()).toMatch(/\] 0\/\d+ jobs, ETA \?/);
    // A line said over the block moves the cursor up and clears it first.
    view.urgent('interrupted: waiting', 'interrupt');
    expect(out.text()).toContain('\x1b[');
  });

  it('--json: versioned events with a time on the JSON stream, nothing on the other', () => {
    const out = capture();
    const json = capture();
    const view = new ProgressView('json', { out: out.s, json: json.s, runDir: 'runs/x' });
    view.handle({ type: 'start', total: 2, done: 0, toRun: 2 });
    view.handle({ type: 'job-start', job: jobs[0], attempt: 1 });
    view.urgent('interrupted: waiting', 'interrupt');
    view.note('a remark');
    const events = json.text().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.map((e) => [e.v, e.type])).toEqual([[1, 'start'], [1, 'job-start'], [1, 'interrupt']]);
    expect(events[0].runDir).toBe('runs/x');
    expect(events[1].jobId).toBe(jobs[0].id);
    expect(events.every((e) => Number.isFinite(Date.parse(e.time as string)))).toBe(true);
    expect(out.text()).toBe('');
  });

  it('cursor codes only on a terminal that takes them', () => {
    expect(progressMode({}, { isTTY: true }, { TERM: 'xterm' })).toBe('tty');
    expect(progressMode({}, { isTTY: true }, { TERM: 'dumb' })).toBe('plain');
    expect(progressMode({}, { isTTY: true }, { TERM: 'xterm', NO_COLOR: '' })).toBe('plain');
    expect(progressMode({}, { isTTY: false }, { TERM: 'xterm' })).toBe('plain');
    expect(progressMode({ json: true }, { isTTY: true }, {})).toBe('json');
    expect(progressMode({ quiet: true }, { isTTY: true }, { TERM: 'xterm' })).toBe('quiet');
  });
});

describe('the report keeps per-example bits within a budget', () => {
  it('under it the bits are used; over it they are left out and the protocol says so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'glance-budget-'));
    const store = new RunStore(join(dir, 'run'));
    store.open(config, false);
    const evals = jobs.filter((j): j is EvalJob => j.kind === 'eval' && j.attack === 'none');
    for (const j of evals) {
      const n = j.end - j.start;
      const bits = encodeBits(Array.from({ length: n }, (_, i) => (i % 10 ? 1 : 0)));
      const result = { kind: 'eval' as const, dataset: 'mnist', model: j.model, seed: j.seed, threat: j.threat, attack: j.attack, source: j.source, eps: 0, epsUnits: 'pixel' as const, split: 'test' as const, start: j.start, end: j.end, correct: n - Math.ceil(n / 10), total: n, backend: { name: 'node' as const, tfjs: '4.22.0' }, seconds: 1, correctBits: bits };
      store.append({ jobId: j.id, status: 'done', seconds: 1, attempt: 1, results: [result], at: new Date().toISOString() });
    }
    const kept = await writeRunReport(store.dir, join(dir, 'reports-kept'));
    expect(readFileSync(join(kept.dir, 'report.md'), 'utf8')).not.toContain('per-example bits');
    const over = await writeRunReport(store.dir, join(dir, 'reports-over'), { bitsBudget: 100 });
    const text = readFileSync(join(over.dir, 'report.md'), 'utf8');
    expect(text).toMatch(/\| per-example bits \| left out: the store holds \d+ MB of them, more than the \d+ MB a report keeps in memory/);
    // The counts do not depend on the bits: the same accuracy table either way.
    const table = (t: string) => t.slice(t.indexOf('## Table I'), t.indexOf('## Table I') + 400);
    expect(table(text)).toBe(table(readFileSync(join(kept.dir, 'report.md'), 'utf8')));
  });
});
