/**
 * A store of an older glance, which trained one AdvNet (in pixel units, under
 * ids without a reading) and evaluated it in both eps readings: status and
 * report still read it, with its AdvNet labelled by the units it was trained
 * in; a resume with today's config is refused, naming the difference.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeMeta } from '../src/coordinator/meta.js';
import { statusText } from '../src/coordinator/status.js';
import { RunStore } from '../src/coordinator/store.js';
import { writeRunReport } from '../src/coordinator/write-report.js';
import { GlanceError } from '../src/errors.js';
import type { ExperimentConfig } from '../src/experiments/config.js';
import { buildJobs } from '../src/experiments/grid.js';
import { PRESETS } from '../src/experiments/presets.js';
import type { EvalResult } from '../src/experiments/types.js';

describe('a store of an older glance: one AdvNet for every eps reading', () => {
  const dir = mkdtempSync(join(tmpdir(), 'glance-old-advnet-'));
  // Its config.json as that glance wrote it: advUnits one unit, not a list.
  const old = { ...PRESETS.smoke, seeds: [1], models: ['NormalNet', 'AdvNet'], attacks: ['fgsm'], eval: { ...PRESETS.smoke.eval, shards: 1 } } as ExperimentConfig;
  (old.train as unknown as { advUnits: string }).advUnits = 'pixel';
  // Nor did it know the attack gradient, PGD's restarts and loss, Square or attack limits.
  const { attackGradients: _g, attackLimits: _l, square: _s, ...written } = old;
  const { restarts: _r, loss: _p, ...pgd } = old.pgd;
  const stored = { ...written, pgd } as unknown as ExperimentConfig;
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ storeFormat: 2, ...stored }, null, 2));
  writeMeta(dir, { splitSize: 10000, datasetFingerprint: 'fp', command: 'glance reproduce --preset smoke', versions: {} });
  const jobs = buildJobs(stored, 10000);
  const lines = jobs.map((job) => {
    if (job.kind === 'train') return { jobId: job.id, status: 'done', seconds: 1, attempt: 1, train: { model: job.model, seed: 1, checkpoint: `${job.model}-seed1`, history: [], backend: { name: 'cpu', tfjs: 'x' } }, at: '2026-11-26T00:00:00Z' };
    const results: EvalResult[] = job.epsUnits.flatMap((epsUnits) => (job.threat === 'clean' ? [0] : job.eps).map((eps) => ({
      kind: 'eval', dataset: 'mnist', model: job.model, seed: 1, threat: job.threat, attack: job.attack, source: job.source, eps, epsUnits,
      split: 'test', start: job.start, end: job.end, correct: job.model === 'AdvNet' ? 700 : 100, total: 1000, backend: { name: 'cpu', tfjs: 'x' }, seconds: 1,
    })));
    return { jobId: job.id, status: 'done', seconds: 1, attempt: 1, results, at: '2026-11-26T00:00:00Z' };
  });
  writeFileSync(join(dir, 'results.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');

  it('keeps its grid: every job is found done', () => {
    expect(jobs.some((j) => j.id === 'train/AdvNet/seed1')).toBe(true);
    expect(jobs.some((j) => j.id === 'eval/AdvNet/seed1/white-box/fgsm/AdvNet/pixel+normalized/test0-1000')).toBe(true);
    expect(statusText(dir)).toContain(`${jobs.length} jobs: ${jobs.length} done, 0 errored, 0 left`);
  });

  it('reports complete, AdvNet in the normalized reading labelled as trained in pixel units', async () => {
    const reports = mkdtempSync(join(tmpdir(), 'glance-old-advnet-reports-'));
    const { dir: out, partial } = await writeRunReport(dir, reports);
    expect(partial).toBe(false);
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).toContain('one AdvNet trained in pixel units and evaluated in every eps reading');
    expect(md).toMatch(/\| AdvNet \(trained in pixel units\) \| 70\.0/);
    const csv = readFileSync(join(out, 'results.csv'), 'utf8');
    expect(csv).toMatch(/,mnist,AdvNet,pixel,1,white-box,fgsm,AdvNet,,0\.1,normalized,/);
  });

  it('is not resumed by this glance: its config names one unit where a list of readings is expected', () => {
    const now = { ...old, train: { ...old.train, advUnits: ['pixel' as const] } };
    const open = () => new RunStore(dir).open(now, false);
    expect(open).toThrow(GlanceError);
    expect(open).toThrow(/different experiment \(.*train\.advUnits: stored "pixel", now \["pixel"\]/);
  });
});
