/**
 * The machine's limits and the user's mistakes end in a message and a clean exit,
 * never a stack trace or a crash, and never cost a stored line: a full disk (a
 * small tmpfs, so root only), an --out or --reports under a file, a damaged
 * meta.json or config.json, a slice with no job. Through the `glance` command on
 * a tiny slice of real MNIST.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { appendLine } from '../src/data/durable.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'src/cli/index.ts');
let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'glance-faults-'));
});

const tiny = (out: string, extra: string[] = []) => [
  'reproduce', '--preset', 'smoke', '--seeds', '2', '--models', 'NormalNet', '--threats', 'white-box', '--attacks', 'fgsm',
  '--train-limit', '300', '--eval-limit', '100', '--eval-shards', '1', '--eps', '0.3', '--workers', '2', '--quiet',
  '--out', out, '--reports', join(tmp, 'reports'), ...extra,
];

function glance(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', cli, ...args], { cwd: root, encoding: 'utf8', timeout: 300_000 });
  return { status: r.status, signal: r.signal, stderr: r.stderr };
}

/** A clean failure: status 1, the message, what to do, no stack trace. */
function failsCleanly(r: { status: number | null; signal: NodeJS.Signals | null; stderr: string }, message: RegExp): void {
  expect(r.signal).toBeNull();
  expect(r.stderr).toMatch(message);
  expect(r.stderr).toMatch(/what to do: /);
  expect(r.stderr).not.toMatch(/^\s+at .*:\d+:\d+\)?$/m);
  expect(r.status).toBe(1);
}

/** A 2 MB tmpfs to fill up: root only, and only where mounting is allowed (not in every container). */
const disk = mkdtempSync(join(tmpdir(), 'glance-disk-'));
const mountRefused = (() => {
  if (process.getuid?.() !== 0) return 'not root';
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', disk], { stdio: 'pipe' });
    return undefined;
  } catch (e) {
    return `cannot mount a tmpfs here (${String((e as { stderr?: Buffer }).stderr ?? e).trim().split('\n')[0]})`;
  }
})();
if (mountRefused) console.warn(`faults: the full-disk tests are skipped: ${mountRefused}`);
const canFill = !mountRefused;

describe('a full disk', () => {
  afterAll(() => {
    if (canFill) execFileSync('umount', [disk]);
    rmSync(disk, { recursive: true, force: true });
  });
  const fill = (leaveKb: number) => {
    rmSync(join(disk, 'filler'), { force: true });
    const free = Number(execFileSync('df', ['-k', '--output=avail', disk], { encoding: 'utf8' }).trim().split('\n')[1]);
    writeFileSync(join(disk, 'filler'), Buffer.alloc(Math.max(0, free - leaveKb) * 1024));
  };

  it.runIf(canFill)('an append that does not fit leaves no part of its line', () => {
    const file = join(disk, 'lines.jsonl');
    appendLine(file, '{"jobId":"a"}');
    fill(0);
    const before = readFileSync(file, 'utf8');
    expect(() => appendLine(file, JSON.stringify({ jobId: 'b', pad: 'x'.repeat(64 * 1024) }))).toThrow(/ENOSPC/);
    expect(readFileSync(file, 'utf8')).toBe(before);
    rmSync(join(disk, 'filler'));
    rmSync(file);
  });

  it.runIf(canFill)('a run on a full disk says so and exits 1; with space again it resumes and loses nothing', () => {
    const out = join(disk, 'run');
    // Room for the store's small files, not for a checkpoint (318 KB) nor running.json's rewrites for long.
    fill(40);
    const r = glance(tiny(out));
    expect(r.signal).toBeNull();
    expect(r.stderr).toMatch(/no space left on the device/);
    expect(r.stderr).not.toMatch(/^\s+at .*:\d+:\d+\)?$/m);
    expect(r.status).toBe(1);
    const stored = existsSync(join(out, 'results.jsonl')) ? readFileSync(join(out, 'results.jsonl'), 'utf8') : '';
    // Every stored line is whole.
    expect(stored === '' || stored.endsWith('\n')).toBe(true);
    for (const l of stored.split('\n').filter(Boolean)) expect(() => JSON.parse(l)).not.toThrow();
    rmSync(join(disk, 'filler'));
    const again = glance(tiny(out));
    expect(again.status).toBe(0);
    const after = readFileSync(join(out, 'results.jsonl'), 'utf8');
    expect(after.startsWith(stored)).toBe(true);
    rmSync(out, { recursive: true });
  });
});

describe('paths and damaged files', () => {
  it('an --out under a file', () => {
    const file = join(tmp, 'a-file');
    writeFileSync(file, 'x');
    failsCleanly(glance(tiny(join(file, 'run'))), /cannot mkdir .*a-file\/run: a part of the path is a file, not a directory/);
  });

  // Node's recursive mkdir retried forever under a directory that refuses new entries (procfs).
  it.runIf(existsSync('/proc/self'))('an --out where no directory can be made, without hanging', () => {
    failsCleanly(glance(tiny('/proc/glance-faults/run')), /cannot mkdir \/proc\/glance-faults: no such file or directory/);
  });

  it('a --reports under a file: the run is stored, the report says why it is not written', () => {
    const file = join(tmp, 'reports-file');
    writeFileSync(file, 'x');
    const out = join(tmp, 'run-reports');
    const r = glance([...tiny(out), '--reports', join(file, 'sub')]);
    failsCleanly(r, /cannot mkdir .*reports-file\/sub.*: a part of the path is a file, not a directory/);
    expect(readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n')).toHaveLength(6);
  });

  it('a damaged meta.json: status and report say which file; a resume rewrites it', () => {
    const out = join(tmp, 'run-meta');
    expect(glance(tiny(out)).status).toBe(0);
    writeFileSync(join(out, 'meta.json'), '{"splitSize": 100');
    failsCleanly(glance(['status', out]), /meta.json: the run's meta.json is not valid JSON/);
    failsCleanly(glance(['report', out, '--reports', join(tmp, 'reports')]), /meta.json: the run's meta.json is not valid JSON/);
    writeFileSync(join(out, 'meta.json'), '{}');
    failsCleanly(glance(['status', out]), /meta.json: the run's meta.json is not a meta.json of glance \(splitSize: expected a number\)/);
    const r = glance(tiny(out));
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/6 already stored/);
    expect(JSON.parse(readFileSync(join(out, 'meta.json'), 'utf8')).splitSize).toBe(10000);
  });

  it('a config.json that is null or not JSON', () => {
    const out = join(tmp, 'run-config');
    expect(glance(tiny(out)).status).toBe(0);
    const config = join(out, 'config.json');
    const saved = readFileSync(config);
    writeFileSync(config, 'null\n');
    failsCleanly(glance(['status', out]), /config.json: the run's config is not a JSON object/);
    failsCleanly(glance(tiny(out)), /config.json: the run's config is not a JSON object/);
    writeFileSync(config, '{"seeds": [1,');
    failsCleanly(glance(['report', out]), /config.json: the run's config is not valid JSON/);
    writeFileSync(config, saved);
    expect(statSync(join(out, 'results.jsonl')).size).toBeGreaterThan(0);
  });

  // The native backend, when built: a worker thread that loaded it and ran no op crashed the process at exit.
  const native = existsSync(join(root, 'node_modules/@tensorflow/tfjs-node/lib/napi-v8/tfjs_binding.node'));
  it.runIf(native)('a run whose every job fails at once on the node backend exits 1, not in a segmentation fault', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', cli, ...tiny(join(tmp, 'all-fail'), ['--backend', 'node'])], {
      cwd: root,
      encoding: 'utf8',
      timeout: 300_000,
      env: { ...process.env, GLANCE_FAULT_THROW: '*' },
    });
    expect(r.signal).toBeNull();
    expect(r.stderr).toMatch(/errored \(2\)/);
    expect(r.status).toBe(1);
  });

  it('a slice with no job ends cleanly', () => {
    const r = glance([...tiny(join(tmp, 'empty-shard')), '--shard', '7/7']);
    expect(r.signal).toBeNull();
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/0\/0 jobs done/);
  });
});
