/**
 * Reading results.jsonl in chunks (store-lines.ts): lines cut across chunk
 * boundaries, lines longer than a chunk, a torn last line, the parse without
 * results and the summary against a whole JSON.parse; the ETA from measured
 * throughput (eta.ts) against hand-computed cases.
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isBlank, parseLine, scanLines, summarizeLine } from '../src/coordinator/store-lines.js';
import { etaSeconds, ratesOf, workOf } from '../src/coordinator/eta.js';
import { RunStore } from '../src/coordinator/store.js';
import { tallyRun } from '../src/coordinator/tally.js';
import { PRESETS } from '../src/experiments/presets.js';
import { buildJobs } from '../src/experiments/grid.js';
import type { ExperimentConfig } from '../src/experiments/config.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'glance-lines-'));

function evalLine(jobId: string, bits: number) {
  const result = { kind: 'eval', dataset: 'mnist', model: 'NormalNet', seed: 1, threat: 'clean', attack: 'none', eps: 0, epsUnits: 'pixel', split: 'test', start: 0, end: 10, correct: 9, total: 10, backend: { name: 'node', tfjs: '4.22.0' }, seconds: 1, correctBits: 'A'.repeat(bits) };
  return { jobId, status: 'done', seconds: 1.5, attempt: 1, results: [result, { ...result, eps: 0.3 }], at: '2026-12-01T00:00:00.000Z', configHash: 'abc123' };
}

describe('scanLines', () => {
  it('cuts every line exactly, across chunk boundaries and past the chunk size', () => {
    const file = join(tmp(), 'r.jsonl');
    // 8 MB chunks: lines of 3 KB cross boundaries; one line of 20 MB is longer than a chunk.
    const lines = Array.from({ length: 6000 }, (_, i) => JSON.stringify(evalLine(`eval/x/${i}`, i === 2500 ? 20 << 20 : 3000)));
    writeFileSync(file, lines.join('\n') + '\n{"jobId":"torn","sta');
    const seen: string[] = [];
    const end = scanLines(file, (buf, start, stop) => seen.push(buf.toString('utf8', start, stop)));
    expect(seen.length).toBe(lines.length);
    expect(seen.every((l, i) => l === lines[i])).toBe(true);
    expect(end.tail.toString()).toBe('{"jobId":"torn","sta');
    expect(end.complete).toBe(Buffer.byteLength(lines.join('\n') + '\n'));
  });

  it('parses without results and summarises as a whole parse would', () => {
    const line = evalLine('eval/NormalNet/seed1/clean/none', 1700);
    const buf = Buffer.from('junk\n' + JSON.stringify(line) + '\nmore');
    const start = 5;
    const end = buf.indexOf(10, start);
    const { results: _r, ...rest } = line;
    expect(parseLine(buf, start, end, { results: false })).toEqual(rest);
    expect(parseLine(buf, start, end, { results: true })).toEqual(line);
    expect(summarizeLine(buf, start, end)).toEqual({ jobId: line.jobId, status: 'done', seconds: 1.5, attempt: 1, at: line.at, configHash: 'abc123' });
    // Another key order: the cut does not apply, the whole parse does.
    const odd = Buffer.from(JSON.stringify({ results: line.results, jobId: 'a', status: 'done', seconds: 2, attempt: 1, at: 'x' }));
    expect(parseLine(odd, 0, odd.length, { results: false })).toEqual({ jobId: 'a', status: 'done', seconds: 2, attempt: 1, at: 'x' });
    expect(summarizeLine(odd, 0, odd.length)).toEqual({ jobId: 'a', status: 'done', seconds: 2, attempt: 1, at: 'x' });
    const errored = Buffer.from(JSON.stringify({ jobId: 'b', status: 'errored', error: 'Error: x\n at y', attempt: 2, at: 'z' }));
    expect(summarizeLine(errored, 0, errored.length)).toEqual({ jobId: 'b', status: 'errored', error: 'Error: x\n at y', attempt: 2, at: 'z', seconds: undefined });
    expect(isBlank(Buffer.from(' \t\r'), 0, 3)).toBe(true);
  });

  it('a summary read from the bytes equals the summary of a whole parse, in every layout', () => {
    const base = evalLine('eval/NormalNet/seed1/clean/none', 40);
    const train = { model: 'NormalNet', seed: 1, checkpoint: 'NormalNet-seed1', history: [{ epoch: 1, loss: 0.3 }] };
    const variants: Record<string, unknown>[] = [
      base,
      { ...base, configHash: undefined },
      { jobId: base.jobId, status: 'done', seconds: 1.5, attempt: 1, configHash: 'abc123', results: base.results, at: base.at },
      { ...base, jobId: 'eval/with "quote"/and\\slash' },
      { ...base, jobId: 'eval/ünïcode/seed1' },
      { ...base, seconds: 1e-7, attempt: 12 },
      { ...base, at: undefined },
      { jobId: 'train/NormalNet/seed1', status: 'done', seconds: 3, attempt: 1, train, at: base.at, configHash: 'abc123' },
      { jobId: 'c', status: 'errored', error: 'Error: x "at":"y"}', attempt: 1, at: base.at, configHash: 'abc123' },
    ];
    const expected = (l: Record<string, unknown>, withTrain: boolean) => {
      const { jobId, status, seconds, attempt, at, configHash, error, train: t } = l;
      return JSON.parse(JSON.stringify({ jobId, status, seconds, attempt, at, configHash, error, ...(withTrain && String(jobId).startsWith('train/') ? { train: t } : {}) }));
    };
    // A training's checkpoint name alone, unless the record says more (a reused model): then the whole record.
    const one = (l: unknown) => Buffer.from(JSON.stringify(l));
    const t = one(variants[7]);
    expect(summarizeLine(t, 0, t.length, { checkpoint: true }).train).toEqual({ checkpoint: 'NormalNet-seed1' });
    const reused = one({ ...variants[7], train: { ...train, reusedFrom: 'runs/a/checkpoints' } });
    expect(summarizeLine(reused, 0, reused.length, { checkpoint: true }).train).toEqual({ ...train, reusedFrom: 'runs/a/checkpoints' });
    // Every line between others, so a search that ran past its line's end would find the neighbours' keys.
    const texts = variants.map((v) => JSON.stringify(v));
    const buf = Buffer.from(texts.map((t) => `${t}\n${JSON.stringify(base)}`).join('\n'));
    let start = 0;
    for (const [i, t] of texts.entries()) {
      const end = start + Buffer.byteLength(t);
      for (const withTrain of [false, true]) {
        expect({ i, s: JSON.parse(JSON.stringify(summarizeLine(buf, start, end, { train: withTrain }))) }).toEqual({ i, s: expected(variants[i], withTrain) });
      }
      start = end + 1 + Buffer.byteLength(JSON.stringify(base)) + 1;
    }
  });

  it('the store reads the same lines in every mode, keeps the last per job, and drops a torn tail', () => {
    const dir = tmp();
    const config = { ...PRESETS.smoke, seeds: [1] } as ExperimentConfig;
    const store = new RunStore(dir);
    store.open(config, false);
    const ids = buildJobs(config, 10000).slice(0, 5).map((j) => j.id);
    for (const id of ids) store.append({ jobId: id, status: 'errored', error: 'boom', attempt: 1, at: '2026-12-01T00:00:01.000Z' });
    for (const id of ids) store.append({ ...evalLine(id, 100), configHash: undefined } as never);
    writeFileSync(store.resultsFile, '{"jobId":"x","status":"do', { flag: 'a' });
    const reader = new RunStore(dir);
    const full = reader.read();
    const light = reader.read({ results: false });
    const summary = reader.read({ summary: true });
    expect(full.droppedTornLine).toBe(true);
    expect([...full.lines.keys()]).toEqual(ids);
    for (const id of ids) {
      expect(full.lines.get(id)!.status).toBe('done');
      expect((full.lines.get(id) as { results: unknown[] }).results).toHaveLength(2);
      expect(light.lines.get(id)).toEqual({ ...full.lines.get(id), results: undefined });
      expect(summary.lines.get(id)!.status).toBe('done');
    }
  });
});

describe('tallyRun', () => {
  it('streams the store and the grid to what a whole read of both says', () => {
    const dir = tmp();
    const config = { ...PRESETS.smoke, seeds: [1, 2] } as ExperimentConfig;
    const store = new RunStore(dir);
    store.open(config, false);
    const jobs = buildJobs(config, 10000);
    const train = { model: 'NormalNet', seed: 1, checkpoint: 'NormalNet-seed1', history: [] };
    // A training done, five evaluations done (one of them errored first), one errored, the rest left; a line of no grid without a hash.
    store.append({ jobId: jobs[0].id, status: 'done', seconds: 30, attempt: 1, train, at: '2026-12-01T00:00:30.000Z' } as never);
    store.append({ jobId: jobs[10].id, status: 'errored', error: 'boom', attempt: 1, at: '2026-12-01T00:00:31.000Z' });
    for (const j of jobs.slice(10, 15)) store.append({ ...evalLine(j.id, 100), configHash: undefined } as never);
    store.append({ jobId: jobs[20].id, status: 'errored', error: 'bang', attempt: 2, at: '2026-12-01T00:01:00.000Z' });
    writeFileSync(store.resultsFile, JSON.stringify({ ...evalLine('eval/of-an-older-glance', 10), configHash: undefined }) + '\n', { flag: 'a' });

    const t = tallyRun(new RunStore(dir), config, { splitSize: 10000 }, { train: true, times: true, rates: true });
    const { lines } = new RunStore(dir).read();
    const done = jobs.filter((j) => lines.get(j.id)?.status === 'done');
    expect(t.doneOfKind.train + t.doneOfKind.eval).toBe(done.length);
    expect(t.doneTrainings.map((j) => j.id)).toEqual([jobs[0].id]);
    expect(t.errored.map((j) => j.id)).toEqual([jobs[20].id]);
    expect(t.left).toEqual(jobs.filter((j) => !lines.has(j.id)));
    expect(t.ofKind.train + t.ofKind.eval).toBe(jobs.length);
    expect(t.unmatched).toBe(1);
    expect((t.trainLines.get(jobs[0].id)?.train as { checkpoint: string }).checkpoint).toBe('NormalNet-seed1');
    const seconds = new Map(done.map((j) => [j.id, (lines.get(j.id) as { seconds: number }).seconds]));
    expect(t.rates).toEqual(ratesOf(jobs, seconds, config));
    // The evaluations' lines end at 00:00:00 after 1.5 s each: the first start is 1.5 s before.
    expect(t.first).toBe(Date.parse('2026-12-01T00:00:00.000Z') - 1500);
    expect(t.last).toBe(Date.parse('2026-12-01T00:01:00.000Z'));
  });
});

describe('ETA from measured throughput', () => {
  const config = { ...PRESETS.smoke, seeds: [1, 2], models: ['NormalNet'], attacks: ['fgsm'], threats: ['white-box'], epsUnits: ['pixel'], eps: [0.3], eval: { ...PRESETS.smoke.eval, shards: 1, limit: 1000 }, train: { ...PRESETS.smoke.train, epochs: 2, limit: 1000 } } as ExperimentConfig;
  const jobs = buildJobs(config, 10000);
  const byId = (p: string) => jobs.find((j) => j.id.startsWith(p))!;

  it('counts work, not jobs, and spreads it over the workers', () => {
    const t1 = byId('train/NormalNet/seed1');
    const t2 = byId('train/NormalNet/seed2');
    expect(workOf(t1, config)).toBe(2000);
    const clean1 = jobs.find((j) => j.kind === 'eval' && j.seed === 1 && j.attack === 'none')!;
    const fgsm1 = jobs.find((j) => j.kind === 'eval' && j.seed === 1 && j.attack === 'fgsm')!;
    const clean2 = jobs.find((j) => j.kind === 'eval' && j.seed === 2 && j.attack === 'none')!;
    const fgsm2 = jobs.find((j) => j.kind === 'eval' && j.seed === 2 && j.attack === 'fgsm')!;
    expect(workOf(clean1, config)).toBe(1000);
    expect(workOf(fgsm1, config)).toBe(2000);
    // Training at 200 samples/s, clean evaluation at 500 images/s, FGSM at 2000/20 = 100 work/s.
    const seconds = new Map([[t1.id, 10], [clean1.id, 2], [fgsm1.id, 20]]);
    const rates = ratesOf(jobs, seconds, config);
    // Left: seed 2's training (10 s) and evaluations (2 s + 20 s) = 32 s of work.
    expect(etaSeconds([t2, clean2, fgsm2], [], rates, config, 1)).toBeCloseTo(32, 6);
    expect(etaSeconds([t2, clean2, fgsm2], [], rates, config, 2)).toBeCloseTo(16, 6);
    // Seed 2's training half done: 5 s of it left.
    expect(etaSeconds([t2, clean2, fgsm2], [{ job: t2, fraction: 0.5, elapsed: 5 }], rates, config, 1)).toBeCloseTo(27, 6);
  });

  it('measures an unfinished kind on its running job, and knows nothing before any measurement', () => {
    const t1 = byId('train/NormalNet/seed1');
    expect(etaSeconds([t1], [], new Map(), config, 1)).toBeNaN();
    // A quarter done in 5 s: 15 s to go.
    expect(etaSeconds([t1], [{ job: t1, fraction: 0.25, elapsed: 5 }], new Map(), config, 1)).toBeCloseTo(15, 6);
  });
});
