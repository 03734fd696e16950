/**
 * Run stores written by an older glance, made by hand in the shape it wrote
 * (store format 1: no storeFormat, `"pack": n` in config.json, a packed training
 * job's records in `trains`): status and report read them; a resume of packed
 * training is refused with what to do; an unpacked one resumes with its job ids.
 * And the durable-write module they are written with.
 */
import { describe, it, expect } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendLine, readJson, writeAtomic } from '../src/data/durable.js';
import { GlanceError } from '../src/errors.js';
import { metaFile } from '../src/coordinator/meta.js';
import { mergeStores } from '../src/coordinator/merge.js';
import { statusText } from '../src/coordinator/status.js';
import { RunStore, STORE_FORMAT } from '../src/coordinator/store.js';
import { writeRunReport } from '../src/coordinator/write-report.js';
import type { ExperimentConfig } from '../src/experiments/config.js';
import { buildJobs } from '../src/experiments/grid.js';
import { PRESETS } from '../src/experiments/presets.js';

// The config.json of an older glance: no attack gradients (its gradient attacks were float32, its ids name no mode).
const { attackGradients: _gradients, ...olderSmoke } = PRESETS.smoke;
const config: ExperimentConfig = {
  ...olderSmoke,
  seeds: [1, 2, 3],
  models: ['NormalNet', 'GlanceAgain'],
  threats: ['white-box'],
  attacks: ['fgsm'],
  epsUnits: ['pixel'],
  eps: [0.3],
  eval: { ...PRESETS.smoke.eval, shards: 1, limit: 100 },
};
const backend = { name: 'node', tfjs: '4.22.0' };
const record = (model: string, seed: number, packedWith?: number[]) => ({
  model,
  seed,
  checkpoint: `${model}-seed${seed}`,
  history: [{ epoch: 1, loss: 0.5, accuracy: 90, samplesPerSec: 1000, seconds: 2 }],
  backend,
  ...(packedWith ? { packedWith } : {}),
});
const result = (model: string, seed: number, attack: string, eps: number, correct: number) => ({
  kind: 'eval',
  dataset: 'mnist',
  model,
  seed,
  threat: attack === 'none' ? 'clean' : 'white-box',
  attack,
  source: model,
  eps,
  epsUnits: 'pixel',
  split: 'test',
  start: 0,
  end: 100,
  correct,
  total: 100,
  backend,
  seconds: 1,
});
const at = (s: number) => `2026-11-26T10:00:${String(s).padStart(2, '0')}.000Z`;

/** An old store as an older glance wrote it: `pack` in config.json, packed training lines with `trains`, eval lines. */
function oldStore(pack: number | undefined): string {
  const dir = mkdtempSync(join(tmpdir(), 'glance-old-store-'));
  mkdirSync(join(dir, 'checkpoints'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, ...(pack === undefined ? {} : { pack }) }, null, 2));
  writeFileSync(
    metaFile(dir),
    JSON.stringify({ splitSize: 10000, datasetFingerprint: 'fp', command: 'npx glance reproduce --preset smoke', versions: { node: '20.20.0' }, commit: 'abc1234' }),
  );
  const lines: object[] =
    pack === 3
      ? [
          { jobId: 'train/NormalNet/seeds1+2+3', status: 'done', seconds: 6, attempt: 1, trains: [1, 2, 3].map((s) => record('NormalNet', s, [1, 2, 3])), at: at(6) },
          { jobId: 'train/GlanceAgain/seeds1+2+3', status: 'errored', error: 'Error: out of memory\n  at x', attempt: 1, at: at(8) },
          { jobId: 'train/GlanceAgain/seeds1+2+3', status: 'done', seconds: 9, attempt: 2, trains: [1, 2, 3].map((s) => record('GlanceAgain', s, [1, 2, 3])), at: at(18) },
        ]
      : [1, 2, 3].flatMap((s) => [
          { jobId: `train/NormalNet/seed${s}`, status: 'done', seconds: 2, attempt: 1, train: record('NormalNet', s), at: at(2 * s) },
          { jobId: `train/GlanceAgain/seed${s}`, status: 'done', seconds: 3, attempt: 1, train: record('GlanceAgain', s), at: at(2 * s + 1) },
        ]);
  lines.push(
    { jobId: 'eval/NormalNet/seed1/clean/none/NormalNet/pixel/test0-100', status: 'done', seconds: 1, attempt: 1, results: [result('NormalNet', 1, 'none', 0, 97)], at: at(20) },
    { jobId: 'eval/GlanceAgain/seed1/clean/none/GlanceAgain/pixel/test0-100', status: 'done', seconds: 1, attempt: 1, results: [result('GlanceAgain', 1, 'none', 0, 98)], at: at(21) },
    { jobId: 'eval/GlanceAgain/seed1/white-box/fgsm/GlanceAgain/pixel/test0-100', status: 'done', seconds: 1, attempt: 1, results: [result('GlanceAgain', 1, 'fgsm', 0.3, 12)], at: at(22) },
  );
  writeFileSync(join(dir, 'results.jsonl'), lines.map((l) => JSON.stringify(l) + '\n').join(''));
  return dir;
}

const glanceError = (fn: () => unknown, code: string, pattern: RegExp) => {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(GlanceError);
  expect((caught as GlanceError).code).toBe(code);
  expect(`${(caught as GlanceError).message}\n${(caught as GlanceError).suggestion}`).toMatch(pattern);
};

describe('stores of an older glance (format 1)', () => {
  const total = buildJobs(config, 10000).length;

  it('status reads a packed store: each seed of a packed training job is done under its own job id', () => {
    const dir = oldStore(3);
    const text = statusText(dir);
    expect(text).toContain(`${total} jobs: 9 done, 0 errored, ${total - 9} left`);
    expect(text).toContain('  train: 6/6 done');
    expect(text).toContain('--pack 3');
    const lines = new RunStore(dir).read().lines;
    expect(lines.get('train/GlanceAgain/seed2')).toMatchObject({ status: 'done', attempt: 2, train: { model: 'GlanceAgain', seed: 2, checkpoint: 'GlanceAgain-seed2' } });
    expect(lines.has('train/GlanceAgain/seeds1+2+3')).toBe(false);
  });

  it('report writes a packed store, saying how it was trained and that its machine was not recorded', async () => {
    const dir = oldStore(3);
    const reports = mkdtempSync(join(tmpdir(), 'glance-old-report-'));
    const r = await writeRunReport(dir, reports);
    expect(r.partial).toBe(true);
    const md = readFileSync(join(r.dir, 'report.md'), 'utf8');
    expect(md).toContain('seeds trained 3 at a time as one batched computation (--pack 3)');
    expect(md).toContain('| machine | not recorded |');
    expect(md).toContain('abc1234');
    // The packed jobs count once, not once per seed: 6 + 9 + 3 x 1 = 18 s of job time.
    expect(md).toContain('(0.3 min of job time)');
    expect(readFileSync(join(r.dir, 'results.csv'), 'utf8').split('\n').filter(Boolean)).toHaveLength(4);
    // Its results carry no per-example bits: the summary still holds the verdicts, none for a partial run.
    const summary = JSON.parse(readFileSync(join(r.dir, 'summary.json'), 'utf8'));
    expect(summary).toMatchObject({ format: 'glance-bench-summary', version: 1, worstCases: [] });
    expect(summary.blockers.filter((b: string) => b.startsWith('partial run ('))).toHaveLength(1);
    expect(summary.verdicts.length).toBeGreaterThan(0);
    expect(summary.verdicts.every((v: { verdict: string }) => v.verdict === 'no verdict')).toBe(true);
  });

  it('refuses to resume packed training, saying why and what to do; --force-new starts afresh in the current format', () => {
    const dir = oldStore(3);
    glanceError(() => new RunStore(dir).open(config, false), 'STORE_FORMAT', /older glance that trained 3 seeds of a model as one job[\s\S]*glance report .*--out.*--force-new/);
    new RunStore(dir).open(config, true);
    const stored = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    expect(stored.storeFormat).toBe(STORE_FORMAT);
    expect(stored.pack).toBeUndefined();
    expect(new RunStore(dir).read().lines.size).toBe(0);
  });

  for (const pack of [1, undefined]) {
    it(`resumes an unpacked store (pack ${pack}) with the same job ids, and records the current format`, () => {
      const dir = oldStore(pack);
      const state = new RunStore(dir).open(config, false);
      const ids = new Set(buildJobs(config, 10000).map((j) => j.id));
      expect([...state.lines.keys()].every((id) => ids.has(id))).toBe(true);
      expect(state.lines.size).toBe(9);
      const stored = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
      expect(stored).toEqual({ storeFormat: STORE_FORMAT, ...config });
      expect(new RunStore(dir).readConfig()).toEqual(config);
    });
  }

  it('merges packed stores into a store of their own format, which reports and refuses to resume', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'glance-old-merge-')), 'merged');
    mergeStores([oldStore(3), oldStore(3)], out);
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'))).toMatchObject({ storeFormat: 1, pack: 3 });
    expect(statusText(out)).toContain('9 done');
    glanceError(() => new RunStore(out).open(config, false), 'STORE_FORMAT', /--pack 3/);
    glanceError(() => mergeStores([oldStore(3), oldStore(1)], join(out, 'x')), 'STORE_CONFLICT', /pack: stored 3, now undefined/);
  });

  it('refuses a store of a newer format, and names a config.json or meta.json that does not parse', () => {
    const dir = oldStore(1);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ storeFormat: STORE_FORMAT + 1, ...config }));
    glanceError(() => statusText(dir), 'STORE_FORMAT', /newer glance/);
    writeFileSync(join(dir, 'config.json'), '{"storeFormat": 2, "seeds": [1,');
    glanceError(() => statusText(dir), 'STORE_INVALID', /config\.json: the run's config is not valid JSON/);
    const other = oldStore(1);
    writeFileSync(metaFile(other), '{"splitSize": 100');
    glanceError(() => statusText(other), 'STORE_INVALID', /meta\.json: the run's meta\.json is not valid JSON[\s\S]*run the same command again/);
  });
});

describe('durable writes', () => {
  it('writeAtomic replaces a file whole and leaves no temp file; appendLine appends a line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'glance-durable-'));
    const file = join(dir, 'a.json');
    writeAtomic(file, 'one');
    writeAtomic(file, new Uint8Array(Buffer.from('two')));
    expect(readFileSync(file, 'utf8')).toBe('two');
    appendLine(join(dir, 'b.jsonl'), '{"x":1}');
    appendLine(join(dir, 'b.jsonl'), '{"x":2}');
    expect(readFileSync(join(dir, 'b.jsonl'), 'utf8')).toBe('{"x":1}\n{"x":2}\n');
    expect(readdirSync(dir).sort()).toEqual(['a.json', 'b.jsonl']);
  });

  it('writeAtomic removes its temp file when it fails and keeps the old file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'glance-durable-'));
    const target = join(dir, 'target');
    mkdirSync(join(target, 'full'), { recursive: true });
    expect(() => writeAtomic(target, 'x')).toThrow();
    expect(readdirSync(dir)).toEqual(['target']);
    expect(existsSync(join(target, 'full'))).toBe(true);
  });

  it('readJson turns a missing or unparseable file into a STORE_INVALID naming it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'glance-durable-'));
    glanceError(() => readJson(join(dir, 'none.json'), 'the thing'), 'STORE_INVALID', /none\.json: cannot read the thing \(ENOENT\)/);
    writeFileSync(join(dir, 'torn.json'), '{"a": ');
    glanceError(() => readJson(join(dir, 'torn.json'), 'the thing', 'do this'), 'STORE_INVALID', /torn\.json: the thing is not valid JSON[\s\S]*do this/);
    writeFileSync(join(dir, 'ok.json'), '{"a":1}');
    expect(readJson(join(dir, 'ok.json'), 'the thing')).toEqual({ a: 1 });
  });
});
