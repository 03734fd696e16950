/**
 * The attack options end to end, through `glance reproduce` in a child process on
 * a slice of real MNIST: every evaluation result carries per-example correctness
 * that counts what its count counts, the gradient mode of a gradient attack, the
 * attack's parameters (PGD's restarts and loss, Square's queries), and an attack
 * with an example limit reports the slice it covered; the report is written.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { countBits } from '../src/experiments/example-bits.js';
import type { EvalResult } from '../src/experiments/types.js';

const root = fileURLToPath(new URL('..', import.meta.url));

it('a run with every new attack option stores per-example bits, gradient modes and attack parameters', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'glance-attacks-'));
  const out = join(tmp, 'run');
  const args = [
    'reproduce', '--preset', 'smoke', '--seeds', '1', '--models', 'NormalNet', '--train-limit', '600',
    '--eval-limit', '120', '--eval-shards', '2', '--eps', '0.1,0.3', '--eps-units', 'pixel', '--threats', 'white-box',
    '--attacks', 'fgsm,pgd,noise,square', '--attack-gradient', 'stable,float32', '--pgd-steps', '3', '--pgd-restarts', '2',
    '--pgd-loss', 'cw', '--square-queries', '20', '--attack-limit', 'square=50', '--workers', '1', '--quiet',
    '--out', out, '--reports', join(tmp, 'reports'),
  ];
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src/cli/index.ts'), ...args], { cwd: root, encoding: 'utf8', timeout: 300_000 });
  expect(r.stderr).toMatch(/finished: (\d+)\/\1 jobs done/);
  expect(r.status).toBe(0);
  expect(existsSync(join(tmp, 'reports', 'run', 'report.md'))).toBe(true);

  const results = readFileSync(join(out, 'results.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .flatMap((l) => (JSON.parse(l) as { results?: EvalResult[] }).results ?? []);
  for (const res of results) {
    expect(countBits(res.correctBits!, res.total)).toBe(res.correct);
    expect(res.total).toBe(res.end - res.start);
  }
  const of = (attack: string) => results.filter((res) => res.attack === attack);
  for (const attack of ['fgsm', 'pgd']) expect(new Set(of(attack).map((res) => res.gradient))).toEqual(new Set(['stable', 'float32']));
  for (const attack of ['none', 'noise', 'square']) expect(of(attack).every((res) => res.gradient === undefined)).toBe(true);
  expect(of('pgd').every((res) => res.attackParams?.restarts === 2 && res.attackParams.loss === 'cw' && res.attackParams.steps === 3)).toBe(true);
  expect(of('square').every((res) => res.attackParams?.queries === 20 && res.threat === 'white-box')).toBe(true);
  expect([...new Set(of('square').map((res) => `${res.start}-${res.end}`))].sort()).toEqual(['0-25', '25-50']);
  expect([...new Set(of('noise').map((res) => `${res.start}-${res.end}`))].sort()).toEqual(['0-60', '60-120']);
});
