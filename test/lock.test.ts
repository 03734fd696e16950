/**
 * The run directory's lock (coordinator/lock.ts) on real files and processes: a
 * live holder on this host (another process) is refused by name, a dead one (its
 * pid gone) is taken over; a holder on another host sharing the directory is live
 * while its heartbeat is fresh and taken over once it is stale; a holder only ever
 * removes its own lock. Killing `npx` outright stops the coordinator it started.
 */
import { describe, it, expect } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { STALE_MS, acquireRunLock, lockFile, readLock } from '../src/coordinator/lock.js';
import { mergeStores } from '../src/coordinator/merge.js';
import { GlanceError } from '../src/errors.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const fresh = () => mkdtempSync(join(tmpdir(), 'glance-lock-'));

function holder(dir: string, fields: Record<string, unknown>, ageMs = 0): void {
  writeFileSync(lockFile(dir), JSON.stringify({ pid: 1, host: hostname(), startedAt: 'then', command: 'glance reproduce', token: 'theirs', ...fields }));
  const t = new Date(Date.now() - ageMs);
  utimesSync(lockFile(dir), t, t);
}

function refused(fn: () => unknown): GlanceError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(GlanceError);
    expect((e as GlanceError).code).toBe('RUN_LOCKED');
    return e as GlanceError;
  }
  throw new Error('expected the lock to be refused');
}

describe('the run lock', () => {
  it('is taken, names its holder, refuses a second taker in another process, and is released', () => {
    const dir = fresh();
    const lock = acquireRunLock(dir, 'glance reproduce --out x');
    expect(readLock(dir)).toMatchObject({ pid: process.pid, host: hostname(), command: 'glance reproduce --out x' });
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', '-e', `import('${join(root, 'src/coordinator/lock.ts')}').then((m) => m.acquireRunLock(${JSON.stringify(dir)}, 'second'))`],
      { cwd: root, encoding: 'utf8' },
    );
    expect(child.status).not.toBe(0);
    expect(child.stderr).toContain(`is in use by another glance (pid ${process.pid} on ${hostname()}, since ${lock.holder.startedAt}: glance reproduce --out x)`);
    lock.release();
    expect(existsSync(lockFile(dir))).toBe(false);
    acquireRunLock(dir, 'again').release();
    // No temp or set-aside files are left behind.
    expect(readdirSync(dir)).toEqual([]);
  });

  it('takes over the lock of a process of this host that is gone', () => {
    const dir = fresh();
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    holder(dir, { pid: Number(gone.stdout) });
    const lock = acquireRunLock(dir, 'next');
    expect(readLock(dir)?.token).toBe(lock.holder.token);
    lock.release();
  });

  it("respects another host's holder while its heartbeat is fresh, takes over a stale one", () => {
    const dir = fresh();
    holder(dir, { host: 'node-b', pid: 4242 }, 5_000);
    const e = refused(() => acquireRunLock(dir, 'next'));
    expect(e.message).toMatch(/in use by another glance \(pid 4242 on node-b, since then: glance reproduce\)/);
    expect(e.suggestion).toMatch(/kill 4242 on node-b/);
    holder(dir, { host: 'node-b', pid: 4242 }, STALE_MS + 5_000);
    const lock = acquireRunLock(dir, 'next');
    expect(readLock(dir)?.host).toBe(hostname());
    lock.release();
  });

  it('a holder whose lock was taken over does not remove the new one', () => {
    const dir = fresh();
    const lock = acquireRunLock(dir, 'first');
    holder(dir, { pid: process.pid, token: 'someone-else' });
    lock.release();
    expect(readLock(dir)?.token).toBe('someone-else');
  });

  it('glance merge refuses an --out that a coordinator holds, and writes nothing into it', () => {
    const dir = fresh();
    const lock = acquireRunLock(dir, 'glance reproduce --out merged');
    const e = refused(() => mergeStores([join(dir, 'nowhere')], dir));
    expect(e.message).toMatch(/in use by another glance \(pid \d+ on .*glance reproduce --out merged\)/);
    expect(readdirSync(dir)).toEqual(['coordinator.lock']);
    lock.release();
  });

  it('a coordinator started by npx stops when npx is killed outright, and frees the run', async () => {
    const dir = fresh();
    const out = join(dir, 'run');
    const args = ['reproduce', '--preset', 'smoke', '--seeds', '40', '--models', 'NormalNet', '--threats', 'white-box', '--attacks', 'fgsm', '--train-limit', '2000', '--eval-limit', '500', '--eps', '0.3', '--workers', '1', '--quiet', '--out', out, '--reports', join(dir, 'reports')];
    // npm exec (npx) runs tsx under a shell; tsx runs the CLI in a node of its own.
    const npx = spawn('npx', ['--no-install', 'tsx', join(root, 'src/cli/index.ts'), ...args], { cwd: root, stdio: 'ignore' });
    const until = async (cond: () => boolean, ms: number) => {
      for (const t0 = Date.now(); !cond(); ) {
        if (Date.now() - t0 > ms) throw new Error('timed out');
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    await until(() => existsSync(lockFile(out)) && existsSync(join(out, 'results.jsonl')), 120_000);
    const coordinator = readLock(out)!.pid;
    npx.kill('SIGKILL');
    const alive = () => {
      try {
        process.kill(coordinator, 0);
        return true;
      } catch {
        return false;
      }
    };
    await until(() => !alive(), 60_000);
    expect(existsSync(lockFile(out))).toBe(false);
    expect(readFileSync(join(out, 'run.log'), 'utf8')).toMatch(/interrupted/);
  }, 200_000);
});
