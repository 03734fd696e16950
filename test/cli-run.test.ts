/**
 * The coordinator end to end, through the `glance` command in child processes,
 * on a tiny slice of real MNIST: kill -9 mid-run and resume, reuse of another
 * run's models, a job that throws and a worker thread that crashes (1 vs 2
 * workers: cli-workers.test.ts).
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runAndKillWhen } from './fixtures/kill-run.js';
import { configHash } from '../src/experiments/config-hash.js';
import type { ExperimentConfig } from '../src/experiments/config.js';
import { parseResultsCsv } from '../src/report/csv.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'src/cli/index.ts');
const TINY = ['reproduce', '--preset', 'smoke', '--seeds', '1', '--train-limit', '600', '--eval-limit', '200', '--eval-shards', '2', '--eps', '0.3', '--eot-samples', '2', '--quiet'];

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'glance-cli-'));
});

function glance(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', cli, ...args], { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 300_000 });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

interface Line {
  jobId: string;
  status: string;
  attempt: number;
  error?: string;
  results?: Array<{ eps: number; correct: number; total: number }>;
  train?: { history: Array<{ loss: number }> };
}
const lines = (out: string): Line[] =>
  readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Line);

/** What a run measured, per job: counts of evaluations, final loss of training. */
function outcomes(out: string): Record<string, unknown> {
  const byJob: Record<string, unknown> = {};
  for (const l of lines(out)) {
    if (l.status !== 'done') continue;
    byJob[l.jobId] = l.results?.map((r) => [r.eps, r.correct, r.total]) ?? l.train?.history.map((h) => h.loss);
  }
  return byJob;
}

const runArgs = (out: string, workers: number) => [...TINY, '--out', out, '--workers', String(workers), '--reports', join(tmp, 'reports')];

describe('glance reproduce end to end', () => {
  let reference: Record<string, unknown>;

  it('runs the tiny grid and writes a complete store and report', () => {
    const out = join(tmp, 'ref');
    const r = glance(runArgs(out, 2));
    expect(r.stderr).toMatch(/finished: (\d+)\/\1 jobs done/);
    expect(r.status).toBe(0);
    reference = outcomes(out);
    expect(Object.keys(reference).length).toBeGreaterThan(20);
    expect(existsSync(join(tmp, 'reports', 'ref', 'report.md'))).toBe(true);
    expect(existsSync(join(out, 'running.json'))).toBe(false);
    expect(readFileSync(join(tmp, 'reports', 'ref', 'report.md'), 'utf8')).toContain('## Table III');
    // The digit gallery is drawn after the report, in a worker thread, and the report links it.
    expect(existsSync(join(tmp, 'reports', 'ref', 'gallery.svg'))).toBe(true);
    expect(readFileSync(join(tmp, 'reports', 'ref', 'report.md'), 'utf8')).toContain('](gallery.svg)');
  });

  it('trains an AdvNet per eps reading in its units and evaluates each only in its reading', () => {
    const out = join(tmp, 'ref');
    const manifest = (units: string) =>
      JSON.parse(readFileSync(join(out, 'checkpoints', `AdvNet@${units}-seed1.json`), 'utf8')) as { config: { advUnits: string; advEps: number }; sha256: string };
    const [pixel, normalized] = [manifest('pixel'), manifest('normalized')];
    expect([pixel.config.advUnits, normalized.config.advUnits]).toEqual(['pixel', 'normalized']);
    expect(normalized.config.advEps).toBe(pixel.config.advEps);
    // Same seed, same data, same initial weights: only the FGSM step of training differs (0.3 px vs 0.3 x 0.3081 px unclipped).
    expect(normalized.sha256).not.toBe(pixel.sha256);
    const trainLosses = (units: string) => (lines(out).find((l) => l.jobId === `train/AdvNet@${units}/seed1`)!.train!.history.map((h) => h.loss));
    expect(trainLosses('normalized')).not.toEqual(trainLosses('pixel'));
    // NormalNet and GlanceAgain have one checkpoint each, unaffected by the units.
    expect(existsSync(join(out, 'checkpoints', 'NormalNet-seed1.json'))).toBe(true);
    const results = lines(out).flatMap((l) => (l.results ?? []) as unknown as Array<{ model: string; source?: string; threat: string; epsUnits: string; advUnits?: string }>);
    const adv = results.filter((r) => r.model === 'AdvNet');
    for (const threat of ['clean', 'transfer', 'white-box']) {
      for (const units of ['pixel', 'normalized']) {
        expect(adv.filter((r) => r.threat === threat && r.epsUnits === units).map((r) => r.advUnits)).toEqual([units, units]);
      }
    }
    expect(results.filter((r) => r.model !== 'AdvNet' && r.source !== 'AdvNet').every((r) => r.advUnits === undefined)).toBe(true);
  });

  it('the report folder holds the run config; results.csv carries the run, its commit, config hash and AdvNet units', async () => {
    const report = join(tmp, 'reports', 'ref');
    const config = JSON.parse(readFileSync(join(report, 'config.json'), 'utf8')) as ExperimentConfig;
    const { storeFormat: _, ...stored } = JSON.parse(readFileSync(join(tmp, 'ref', 'config.json'), 'utf8')) as ExperimentConfig & { storeFormat: number };
    expect(config).toEqual(stored);
    const rows = await parseResultsCsv(readFileSync(join(report, 'results.csv'), 'utf8'));
    const meta = JSON.parse(readFileSync(join(tmp, 'ref', 'meta.json'), 'utf8')) as { commit: string };
    expect(rows.every((r) => r.provenance?.runId === 'ref' && r.provenance.commit === meta.commit && r.provenance.configHash === configHash(config))).toBe(true);
    expect(rows.filter((r) => r.model === 'AdvNet' && r.threat === 'white-box' && r.attack === 'fgsm').map((r) => [r.epsUnits, r.advUnits])).toEqual([['normalized', 'normalized'], ['pixel', 'pixel']]);
  });

  it('resumes after kill -9 without running a finished job twice, with the same results', async () => {
    const out = join(tmp, 'killed');
    await runAndKillWhen(cli, runArgs(out, 2), out, root, '"status":"done"');
    const before = lines(out).filter((l) => l.status === 'done').map((l) => l.jobId);
    expect(before.length).toBeGreaterThan(0);
    expect(before.length).toBeLessThan(Object.keys(reference).length);

    const r = glance(runArgs(out, 2));
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`${before.length} already stored`));
    const done = lines(out).filter((l) => l.status === 'done').map((l) => l.jobId);
    expect(new Set(done).size).toBe(done.length);
    expect(done.slice(0, before.length)).toEqual(before);
    expect(outcomes(out)).toEqual(reference);
  });

  it('reuses matching trained models from another run instead of training again', () => {
    const out = join(tmp, 'reuse');
    const r = glance([...runArgs(out, 2), '--eps', '0.1,0.3', '--reuse-checkpoints', join(tmp, 'ref', 'checkpoints')]);
    expect(r.status).toBe(0);
    const all = lines(out);
    const train = all.filter((l) => l.jobId.startsWith('train/'));
    // NormalNet, GlanceAgain and one AdvNet per eps reading.
    expect(train.length).toBe(4);
    for (const l of train) expect((l.train as { reusedFrom?: string }).reusedFrom).toMatch(/ref[\\/]checkpoints/);
    // The same models give the same counts at the eps both runs measured.
    for (const l of all.filter((x) => x.results)) {
      const at03 = l.results!.filter((x) => x.eps === 0.3 || x.eps === 0).map((x) => [x.eps, x.correct, x.total]);
      expect(at03).toEqual(reference[l.jobId]);
    }
  });

  it('records a job that throws and a worker that crashes, finishes the rest, exits non-zero', () => {
    const out = join(tmp, 'faults');
    const thrown = 'eval/AdvNet@pixel/seed1/clean/none/AdvNet@pixel/pixel/test0-100';
    const crashed = 'eval/NormalNet/seed1/white-box/fgsm/NormalNet/pixel+normalized/stable/test100-200';
    const r = glance([...runArgs(out, 2), '--models', 'NormalNet,AdvNet'], { GLANCE_FAULT_THROW: thrown, GLANCE_FAULT_CRASH: crashed });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/errored \(2\):/);
    const all = lines(out);
    for (const id of [thrown, crashed]) {
      expect(all.filter((l) => l.jobId === id).map((l) => [l.status, l.attempt])).toEqual([
        ['errored', 1],
        ['errored', 2],
      ]);
    }
    expect(all.find((l) => l.jobId === thrown)!.error).toMatch(/injected fault/);
    const done = all.filter((l) => l.status === 'done').map((l) => l.jobId);
    expect(done).toContain('eval/AdvNet@pixel/seed1/clean/none/AdvNet@pixel/pixel/test100-200');
    expect(done.length).toBeGreaterThan(10);
  });
});
