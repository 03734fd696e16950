/**
 * A run's results do not depend on how many workers ran it: the same tiny grid
 * (NormalNet and GlanceAgain, one seed, real MNIST, the real worker pool) with 1
 * worker and with 2 gives the same job lines (but for timings) and byte-identical
 * checkpoint weights.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { untimed } from './fixtures/untimed.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'src/cli/index.ts');
const TINY = [
  'reproduce', '--preset', 'smoke', '--models', 'NormalNet,GlanceAgain', '--seeds', '1', '--epochs', '1', '--train-limit', '500',
  '--eval-limit', '200', '--eval-shards', '2', '--eps', '0.3', '--eot-samples', '2', '--quiet',
];

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'glance-workers-'));
});

function glance(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', cli, ...args], { cwd: root, encoding: 'utf8', timeout: 300_000 });
  return { status: r.status, stderr: r.stderr };
}

/** The run's job lines by job id (the order of lines depends on the workers) and its checkpoint files. */
function runOf(workers: number) {
  const out = join(tmp, `workers${workers}`);
  const r = glance([...TINY, '--out', out, '--workers', String(workers), '--reports', join(tmp, 'reports')]);
  expect(r.status, r.stderr).toBe(0);
  const lines = readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { jobId: string });
  const files = readdirSync(join(out, 'checkpoints')).sort();
  return {
    lines: new Map(lines.map((l) => [l.jobId, untimed(l)])),
    weights: Object.fromEntries(files.filter((f) => f.endsWith('.weights.bin')).map((f) => [f, readFileSync(join(out, 'checkpoints', f))])),
    manifests: Object.fromEntries(files.filter((f) => f.endsWith('.json')).map((f) => [f, untimed(JSON.parse(readFileSync(join(out, 'checkpoints', f), 'utf8')))])),
  };
}

describe('1 worker and 2 workers', () => {
  it('give identical results and byte-identical checkpoints', () => {
    const one = runOf(1);
    const two = runOf(2);
    expect([...one.lines.keys()].sort()).toEqual([...two.lines.keys()].sort());
    expect(one.lines.size).toBeGreaterThan(10);
    for (const [id, line] of one.lines) expect(two.lines.get(id), id).toEqual(line);
    expect(Object.keys(one.weights)).toEqual(['GlanceAgain-seed1.weights.bin', 'NormalNet-seed1.weights.bin']);
    for (const [f, bytes] of Object.entries(one.weights)) expect(Buffer.compare(bytes, two.weights[f]), f).toBe(0);
    expect(one.manifests).toEqual(two.manifests);
  });
});
