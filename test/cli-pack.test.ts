/**
 * --pack end to end on the native backend, through the `glance` command: a run
 * whose seeds are trained two at a time writes every seed's checkpoint, measures
 * what the unpacked run measures (each seed's clean accuracy within a small
 * tolerance of the same seed trained alone), and a kill -9 and resume does not
 * train a finished pack again. Skipped (with the reason) when native is not built.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runAndKillWhen } from './fixtures/kill-run.js';
import { NOT_BUILT_NOTE, nativeStatus } from './fixtures/native-status.js';

const native = nativeStatus();
const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'src/cli/index.ts');
const TINY = ['reproduce', '--preset', 'smoke', '--seeds', '2', '--train-limit', '600', '--eval-limit', '200', '--eval-shards', '2', '--eps', '0.3', '--eot-samples', '2', '--backend', 'node', '--workers', '2', '--quiet'];

interface Line {
  jobId: string;
  status: string;
  results?: Array<{ model: string; seed: number; threat: string; correct: number; total: number }>;
  trains?: Array<{ seed: number; packedWith?: number[] }>;
}

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'glance-pack-cli-'));
  if (!native.built) console.log(`${NOT_BUILT_NOTE} (${native.why}); --pack end-to-end tests skipped`);
});

const args = (out: string, pack: string) => [...TINY, '--pack', pack, '--out', out, '--reports', join(tmp, 'reports')];
function glance(a: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', cli, ...a], { cwd: root, encoding: 'utf8', timeout: 300_000 });
  return { status: r.status, stderr: r.stderr };
}
const lines = (out: string): Line[] => readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Line);
const done = (out: string) => lines(out).filter((l) => l.status === 'done');

/** Clean accuracy (%) per model and seed, summed over the evaluation's slices. */
function clean(out: string): Record<string, number> {
  const sums: Record<string, [number, number]> = {};
  for (const r of done(out).flatMap((l) => l.results ?? [])) {
    if (r.threat !== 'clean') continue;
    const s = (sums[`${r.model}/seed${r.seed}`] ??= [0, 0]);
    s[0] += r.correct;
    s[1] += r.total;
  }
  return Object.fromEntries(Object.entries(sums).map(([k, [c, t]]) => [k, (100 * c) / t]));
}

describe.skipIf(!native.built)('glance reproduce --pack 2 (node backend)', () => {
  it('is killed mid-run, resumes without training a finished pack again, and matches the unpacked run', async () => {
    const out = join(tmp, 'packed');
    await runAndKillWhen(cli, args(out, '2'), out, root, '"jobId":"train/NormalNet/seeds1+2","status":"done"');
    const before = done(out).map((l) => l.jobId);
    expect(before).toContain('train/NormalNet/seeds1+2');

    const r = glance(args(out, '2'));
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`${before.length} already stored`));
    const ids = done(out).map((l) => l.jobId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.filter((id) => id.startsWith('train/')).sort()).toEqual(['train/AdvNet/seeds1+2', 'train/GlanceAgain/seeds1+2', 'train/NormalNet/seeds1+2']);
    for (const l of done(out).filter((x) => x.trains)) expect(l.trains!.map((t) => [t.seed, t.packedWith])).toEqual([[1, [1, 2]], [2, [1, 2]]]);
    for (const m of ['NormalNet', 'AdvNet', 'GlanceAgain']) {
      for (const s of [1, 2]) {
        expect(existsSync(join(out, 'checkpoints', `${m}-seed${s}.weights.bin`))).toBe(true);
        const manifest = JSON.parse(readFileSync(join(out, 'checkpoints', `${m}-seed${s}.json`), 'utf8'));
        expect(manifest.config.packedWith).toEqual([1, 2]);
      }
    }

    const ref = join(tmp, 'unpacked');
    expect(glance(args(ref, '1')).status).toBe(0);
    const evals = (o: string) => done(o).filter((l) => l.jobId.startsWith('eval/')).map((l) => l.jobId).sort();
    expect(evals(out)).toEqual(evals(ref));
    const results = (o: string) => done(o).flatMap((l) => l.results ?? []).length;
    expect(results(out)).toBe(results(ref));
    const packed = clean(out);
    const alone = clean(ref);
    expect(Object.keys(packed).sort()).toEqual(Object.keys(alone).sort());
    // A packed replicate differs from its seed trained alone only by float summation order.
    for (const k of Object.keys(alone)) expect(Math.abs(packed[k] - alone[k]), k).toBeLessThanOrEqual(1.5);
    expect(readFileSync(join(tmp, 'reports', 'packed', 'report.md'), 'utf8')).toMatch(/seeds trained in packs of 2/);
  });
});
