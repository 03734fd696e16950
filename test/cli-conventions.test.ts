/**
 * The conventions of the `glance` command, through real processes on a tiny
 * slice of real MNIST: exit statuses (usage 2, failure 1, interrupt 130),
 * --version, --json (stdout holds only versioned JSON events), no cursor codes on
 * a dumb terminal (under a pseudo-terminal from script(1), beside a capable one
 * that does get them), Ctrl-C (the first says what it waits for, the run ends 130
 * with a partial report and a consistent store, the resume completes), and what
 * `glance status` says of a finished, an interrupted and a killed run.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runAndKillWhen } from './fixtures/kill-run.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'src/cli/index.ts');
const TINY = ['reproduce', '--preset', 'smoke', '--seeds', '1', '--train-limit', '600', '--eval-limit', '200', '--eval-shards', '2', '--eps', '0.3', '--eot-samples', '2', '--workers', '2'];

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'glance-conv-'));
});

function glance(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', cli, ...args], { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 300_000 });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

const run = (name: string, extra: string[] = []) => [...TINY, '--out', join(tmp, name), '--reports', join(tmp, 'reports'), ...extra];

interface Line {
  jobId: string;
  status: string;
}
const storeLines = (out: string): Line[] => readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Line);

describe('exit statuses and --version', () => {
  it('a usage error exits 2, from commander or from glance', () => {
    const unknown = glance(['reproduce', '--no-such-flag']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/unknown option/);
    const noConfig = glance(['run', '--out', join(tmp, 'x')]);
    expect(noConfig.status).toBe(2);
    expect(noConfig.stderr).toMatch(/--config FILE is required/);
    expect(glance(['reproduce', '--seeds', 'zero']).status).toBe(2);
  });

  it('a failure exits 1 with a message, not a stack trace', () => {
    const r = glance(['report', join(tmp, 'nothing-here')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/is not a run directory/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a reader that closes stdout early (glance --help | head) gets no message and no stack trace, and 141 as from SIGPIPE', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', cli, '--help'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    // Closed before glance writes a byte: every write of its help meets a closed pipe.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const status = await new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    expect(stderr).toBe('');
    expect(status).toBe(141);
  });

  it('--version prints the version and exits 0; --help groups options and shows examples', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    const v = glance(['--version']);
    expect(v.status).toBe(0);
    expect(v.stdout.trim()).toBe(pkg.version);
    const help = glance(['reproduce', '--help']);
    expect(help.status).toBe(0);
    for (const heading of ['Experiment:', 'Training:', 'Evaluation and attacks:', 'Backend and data:', 'Examples:']) expect(help.stdout).toContain(heading);
    expect(glance(['--help']).stdout).toMatch(/Runs and reports:[\s\S]*status/);
  });
});

describe('--json and terminals', () => {
  it('--json writes only versioned JSON events on stdout, with the run directory and the report', () => {
    const out = join(tmp, 'json');
    const r = glance(run('json', ['--json']));
    expect(r.status, r.stderr).toBe(0);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.length).toBeGreaterThan(10);
    for (const e of events) {
      expect(e.v).toBe(1);
      expect(typeof e.type).toBe('string');
      expect(Number.isFinite(Date.parse(e.time as string))).toBe(true);
    }
    expect(events[0]).toMatchObject({ type: 'start', runDir: out });
    const report = events.find((e) => e.type === 'report')!;
    expect(report).toMatchObject({ runDir: out, partial: false });
    expect(existsSync(report.report as string)).toBe(true);
    expect(events.filter((e) => e.type === 'job-done').length).toBe(storeLines(out).filter((l) => l.status === 'done').length);
  });

  it('a dumb terminal gets no cursor codes; a capable one does', () => {
    const under = (name: string, term: string) => {
      const args = ['--import', 'tsx', cli, ...run(name)].map((a) => `'${a}'`).join(' ');
      // script(1) gives the run a pseudo-terminal, as an interactive shell would.
      const r = spawnSync('script', ['-qec', `${process.execPath} ${args}`, '/dev/null'], { cwd: root, env: { ...process.env, TERM: term }, encoding: 'utf8', timeout: 300_000 });
      expect(r.status, r.stdout).toBe(0);
      return r.stdout;
    };
    expect(under('tty', 'xterm-256color')).toContain('\x1b[');
    const dumb = under('dumb', 'dumb');
    expect(dumb).toMatch(/finished: \d+\/\d+ jobs done/);
    expect(dumb).not.toContain('\x1b');
  });
});

describe('Ctrl-C, and what status says', () => {
  it('status says a finished run finished', () => {
    const out = join(tmp, 'json');
    const s = glance(['status', out]);
    expect(s.status).toBe(0);
    expect(s.stdout).toMatch(/finished: every job done/);
  });

  it('the first Ctrl-C waits for the running jobs and says so; 130, partial report, consistent store; the resume completes', async () => {
    const out = join(tmp, 'int');
    const child = spawn(process.execPath, ['--import', 'tsx', cli, ...run('int')], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const file = join(out, 'results.jsonl');
    const code = await new Promise<number | null>((resolve) => {
      const poll = setInterval(() => {
        if (existsSync(file) && readFileSync(file, 'utf8').includes('"status":"done"')) {
          clearInterval(poll);
          child.kill('SIGINT');
        }
      }, 10);
      child.once('exit', (c) => {
        clearInterval(poll);
        resolve(c);
      });
    });
    expect(code, stderr).toBe(130);
    expect(stderr).toMatch(/interrupted: (waiting for the running jobs to finish and be stored \(.+\); press Ctrl-C again|stopping)/);
    expect(stderr).toMatch(/report \(partial\): /);
    const report = join(tmp, 'reports', 'int', 'report.md');
    expect(readFileSync(report, 'utf8')).toMatch(/partial results/i);
    const lines = storeLines(out);
    const done = lines.filter((l) => l.status === 'done').map((l) => l.jobId);
    expect(new Set(done).size).toBe(done.length);
    expect(existsSync(join(out, 'running.json'))).toBe(false);
    const s = glance(['status', out]);
    expect(s.stdout).toMatch(/interrupted after/);
    expect(s.stdout).toContain('resume with: npx glance reproduce');

    const resumed = glance(run('int'));
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(new RegExp(`${done.length} already stored`));
    expect(glance(['status', out]).stdout).toMatch(/finished: every job done/);
  });

  it('the second Ctrl-C stops the running jobs at once: 130, nothing half-stored, status says interrupted', async () => {
    const out = join(tmp, 'abort');
    // Long enough jobs that the second Ctrl-C finds them running.
    const args = [...run('abort', ['--json']).map((a) => (a === '600' ? '6000' : a)), '--epochs', '3'];
    const child = spawn(process.execPath, ['--import', 'tsx', cli, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let signals = 0;
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (signals === 0 && stdout.includes('"type":"job-start"')) {
        signals = 1;
        child.kill('SIGINT');
      } else if (signals === 1 && stdout.includes('"type":"interrupt"')) {
        signals = 2;
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code, stderr).toBe(130);
    const events = stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; waitingFor?: string; summary?: { interrupted: boolean } });
    const interrupt = events.find((e) => e.type === 'interrupt')!;
    expect(interrupt.waitingFor).toMatch(/train\//);
    expect(events.some((e) => e.type === 'abort')).toBe(true);
    expect(events.find((e) => e.type === 'end')!.summary!.interrupted).toBe(true);
    expect(events.at(-1)!.type).toBe('report');
    // The stopped jobs are not stored, as done or as errored: they run again on resume.
    const stored = existsSync(join(out, 'results.jsonl')) ? storeLines(out) : [];
    expect(stored.filter((l) => l.status === 'errored')).toEqual([]);
    expect(existsSync(join(out, 'running.json'))).toBe(false);
    expect(glance(['status', out]).stdout).toMatch(/interrupted after/);
  });

  it('status says a killed run died, and how to resume it', async () => {
    const out = join(tmp, 'killed');
    await runAndKillWhen(cli, run('killed'), out, root, '"status":"done"');
    const s = glance(['status', out]);
    expect(s.status).toBe(0);
    expect(s.stdout).toMatch(/died: its coordinator \(pid \d+\) is gone/);
    expect(s.stdout).toMatch(/resume with: npx glance reproduce .*--out .*killed/);
  });
});
