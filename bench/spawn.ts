/**
 * Child processes of the bench: glance's own measurement processes (bench/child)
 * and the Python peers, optionally pinned to one core with taskset, their one
 * result line parsed. Their stderr is filtered into our progress output.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RESULT_MARK, type ChildJob, type ChildResult } from './types.js';

/** The project root: the nearest directory above this file with a package.json (works from bench/ and dist/bench/). */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('bench: cannot find the project root (no package.json above bench/)');
    dir = up;
  }
  return dir;
}

/** taskset -c CORES, when taskset exists here. */
export function pinning(cores: string): string[] {
  return spawnSync('taskset', ['--version'], { stdio: 'ignore' }).status === 0 ? ['taskset', '-c', cores] : [];
}

export interface Finished {
  code: number | null;
  /** The signal that ended the process, if one did (a crash: SIGSEGV, SIGABRT; SIGKILL: the timeout). */
  signal: NodeJS.Signals | null;
  stdout: string;
  /** The last lines of stderr, for error messages. */
  stderrTail: string[];
}

/** Runs a command; stderr lines that `show` accepts are echoed to our stderr as progress. */
export function run(argv: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; show?: (line: string) => boolean; timeoutMs?: number }): Promise<Finished> {
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let partial = '';
    const tail: string[] = [];
    const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : undefined;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        if (opts.show?.(line)) process.stderr.write(`${line}\n`);
        tail.push(line);
        if (tail.length > 20) tail.shift();
      }
    });
    child.on('error', (e) => tail.push(`cannot start ${argv[0]}: ${e.message}`));
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      if (partial) tail.push(partial);
      resolve({ code, signal, stdout, stderrTail: tail });
    });
  });
}

/** Node's argv for a bench script: plain from dist/, through tsx's loader from the sources. */
export function nodeArgv(relative: string): string[] {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return [process.execPath, fileURLToPath(new URL(relative, here))];
  return [process.execPath, '--import', import.meta.resolve('tsx'), fileURLToPath(new URL(relative.replace(/\.js$/, '.ts'), here))];
}

/**
 * Runs one bench/child job, pinned to `cores` (all cores when undefined), and returns its result.
 * Every fast kernel is on unless the job disables some: a GLANCE_DISABLE_KERNELS of
 * the bench's own environment is not passed on, so it cannot skew every column.
 */
export async function runChild(job: ChildJob, cores?: string, timeoutMs = 15 * 60_000): Promise<ChildResult> {
  const argv = [...(cores ? pinning(cores) : []), ...nodeArgv('./child.js'), JSON.stringify(job)];
  const inherited = { ...process.env };
  delete inherited.GLANCE_DISABLE_KERNELS;
  const disable = job.mode === 'single' && job.disable?.length ? { GLANCE_DISABLE_KERNELS: job.disable.join(',') } : {};
  const env = { ...inherited, TF_NUM_INTRAOP_THREADS: '1', TF_NUM_INTEROP_THREADS: '1', TF_CPP_MIN_LOG_LEVEL: '2', ...disable };
  const done = await run(argv, { env, show: (l) => l.startsWith('  '), timeoutMs });
  const line = done.stdout.split('\n').find((l) => l.startsWith(RESULT_MARK));
  if (line) return JSON.parse(line.slice(RESULT_MARK.length)) as ChildResult;
  // How it ended first: a crash's stderr tail is often only TensorFlow's start-up lines.
  const ended = done.signal ? `killed by ${done.signal}` : `exit code ${done.code}`;
  const tail = done.stderrTail.filter((l) => l.trim()).slice(-3).join(' | ');
  const why = tail ? `${ended}; stderr: ${tail}` : ended;
  return { state: 'skipped', backend: job.backend, reason: `the measuring process failed: ${why}` };
}
