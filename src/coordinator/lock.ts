/**
 * One writer per run directory. The lock is `<dir>/coordinator.lock`, a JSON file
 * naming its holder (pid, host, start time, command), made by writing a temp file
 * and hard-linking it to the lock's name: link() fails when the name exists, on
 * NFS too, and the lock is complete the moment it is visible. The holder touches
 * it every HEARTBEAT_MS, so a process on another machine sharing the directory
 * sees a live holder. A holder is dead when, on this host, its pid is gone, or,
 * from another host, its heartbeat is older than STALE_MS; a dead holder's lock is
 * taken over (renamed away first, so two takers cannot both win). Started by
 * `npx glance` (npm's child), the holder also stops when its parent is killed,
 * so a hard-killed npx leaves no coordinator behind.
 */
import { randomBytes } from 'node:crypto';
import { linkSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ensureDir } from '../data/durable.js';
import { GlanceError } from '../errors.js';

export const LOCK_NAME = 'coordinator.lock';
export const HEARTBEAT_MS = 10_000;
/** A heartbeat this old means the holder on another host is gone (several missed beats, clock skew allowed). */
export const STALE_MS = 60_000;

export interface LockHolder {
  pid: number;
  host: string;
  startedAt: string;
  command: string;
  /** Unique per acquisition, so a holder only ever removes its own lock. */
  token: string;
}

export interface RunLock {
  readonly file: string;
  readonly holder: LockHolder;
  /** Removes the lock if it is still ours; safe to call twice. */
  release(): void;
}

export const lockFile = (dir: string) => join(dir, LOCK_NAME);

/** The holder recorded in `dir`'s lock, or undefined when there is none or it is unreadable. */
export function readLock(dir: string): (LockHolder & { heartbeatAt: Date }) | undefined {
  try {
    const file = lockFile(dir);
    const holder = JSON.parse(readFileSync(file, 'utf8')) as LockHolder;
    return { ...holder, heartbeatAt: statSync(file).mtime };
  } catch {
    return undefined;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists, owned by someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Why the lock's holder is gone, or undefined while it lives. */
export function deadHolder(h: LockHolder & { heartbeatAt: Date }, now = Date.now()): string | undefined {
  if (h.host === hostname()) return h.pid === process.pid || pidAlive(h.pid) ? undefined : `process ${h.pid} on this host has exited`;
  const age = now - h.heartbeatAt.getTime();
  return age > STALE_MS ? `its heartbeat is ${Math.round(age / 1000)} s old` : undefined;
}

const describe = (h: LockHolder) => `pid ${h.pid} on ${h.host}, since ${h.startedAt}: ${h.command}`;

/**
 * Takes the lock of run directory `dir` (created if absent) for `command`, or
 * throws RUN_LOCKED naming the live holder.
 */
export function acquireRunLock(dir: string, command: string): RunLock {
  ensureDir(dir);
  const file = lockFile(dir);
  const holder: LockHolder = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), command, token: randomBytes(8).toString('hex') };
  const tmp = join(dir, `.${LOCK_NAME}.${holder.token}.tmp`);
  writeFileSync(tmp, JSON.stringify(holder) + '\n');
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(tmp, file);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const current = readLock(dir);
      // A lock that cannot be read is being replaced by a taker right now: look again.
      const why = current ? deadHolder(current) : undefined;
      if (current && !why) {
        throw new GlanceError(
          'RUN_LOCKED',
          `${dir} is in use by another glance (${describe(current)})`,
          `wait for it to finish, or stop it (kill ${current.pid}${current.host === hostname() ? '' : ` on ${current.host}`}); only one process writes a run directory`,
        );
      }
      if (attempt >= 20) throw new GlanceError('RUN_LOCKED', `${dir}: could not take ${LOCK_NAME} after ${attempt} tries`, `remove ${file} if no glance uses ${dir}`);
      if (current) takeOver(dir, current.token);
    }
  } finally {
    rmSync(tmp, { force: true });
  }

  let released = false;
  const ours = () => readLock(dir)?.token === holder.token;
  const beat = setInterval(() => {
    try {
      if (ours()) utimesSync(file, new Date(), new Date());
    } catch {
      // The directory may be gone (a test's temp dir) or briefly unreachable (NFS): try at the next beat.
    }
  }, HEARTBEAT_MS);
  beat.unref();
  // npm exec (npx) runs us under a shell; when npm is killed outright we are orphaned: stop as on SIGTERM.
  const npm = process.env.npm_command === 'exec' ? npmAncestor() : undefined;
  const orphanWatch =
    npm !== undefined
      ? setInterval(() => {
          if (!pidAlive(npm)) {
            clearInterval(orphanWatch);
            process.kill(process.pid, 'SIGTERM');
          }
        }, 1000)
      : undefined;
  orphanWatch?.unref();
  const release = () => {
    if (released) return;
    released = true;
    clearInterval(beat);
    if (orphanWatch) clearInterval(orphanWatch);
    process.off('exit', release);
    try {
      if (ours()) rmSync(file, { force: true });
    } catch {
      // Nothing to release.
    }
  };
  process.on('exit', release);
  return { file, holder, release };
}

/** The pid of the npm process we run under (Linux /proc; a few levels up, through the shell npm starts). */
function npmAncestor(): number | undefined {
  let pid = process.ppid;
  for (let level = 0; level < 4 && pid > 1; level++) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (cmd.slice(0, 2).some((a) => /(^|\/)npm( |$)/.test(a) || /npm-cli\.js$/.test(a) || /^npm exec/.test(a))) return pid;
      // Field 4 of /proc/PID/stat, after the parenthesised command name.
      pid = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Moves a dead holder's lock aside; if another taker replaced it meanwhile, puts theirs back. */
function takeOver(dir: string, deadToken: string): void {
  const file = lockFile(dir);
  const aside = join(dir, `.${LOCK_NAME}.${randomBytes(8).toString('hex')}.dead`);
  try {
    renameSync(file, aside);
  } catch {
    return;
  }
  let moved: LockHolder | undefined;
  try {
    moved = JSON.parse(readFileSync(aside, 'utf8')) as LockHolder;
  } catch {
    moved = undefined;
  }
  if (moved && moved.token !== deadToken) {
    // A live lock taken in between: give it back (link fails if yet another appeared; then that one stands).
    try {
      linkSync(aside, file);
    } catch {
      // Someone holds the name now.
    }
  }
  rmSync(aside, { force: true });
}
