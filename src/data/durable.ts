/**
 * Durable writes, the one implementation for every file a run must not lose or
 * find half-written after a crash or power loss: the run store, meta.json,
 * running.json and checkpoints.
 *
 *   writeAtomic  readers see the old file or the new one, never a mix: a temp file
 *                in the same directory (rename is atomic only within a file system),
 *                every byte written and fsynced, renamed over the target, and the
 *                directory fsynced so the rename itself survives a power loss;
 *   copyAtomic   writeAtomic of another file's bytes;
 *   appendLine   a line is on disk (fsynced) when the call returns, and not there at
 *                all when it throws (a full disk);
 *   readJson     a file that does not parse is a GlanceError naming it, not a raw
 *                SyntaxError from deep inside a command.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, statSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { GlanceError } from '../errors.js';

/** A write's error names the file it was for (an fd's write error names none), so the message can say where. */
function named(e: unknown, file: string): unknown {
  const err = e as NodeJS.ErrnoException;
  if (err instanceof Error && typeof err.code === 'string' && err.path === undefined) err.path = file;
  return e;
}

/** Writes all of `bytes` to `fd` (writeSync may write fewer bytes than asked). */
function writeAll(fd: number, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
}

const toBytes = (data: Uint8Array | string): Uint8Array => (typeof data === 'string' ? Buffer.from(data, 'utf8') : data);

/** Makes a rename or a file creation in `dir` durable; a platform that cannot open a directory (Windows) still renames atomically. */
export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Not supported here: the rename is atomic, only its durability is the OS's.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Replaces `file` with `data` atomically and durably. `data` may be a function
 * that writes the contents piece by piece (a store of gigabytes is never one buffer).
 */
export function writeAtomic(file: string, data: Uint8Array | string | ((write: (bytes: Uint8Array) => void) => void)): void {
  const dir = dirname(file);
  // Unique, so two writers of one file never share a temp file.
  const tmp = join(dir, `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'w');
  try {
    if (typeof data === 'function') data((bytes) => writeAll(fd, bytes));
    else writeAll(fd, toBytes(data));
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, file);
  } catch (e) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    rmSync(tmp, { force: true });
    throw named(e, file);
  }
  fsyncDir(dir);
}

/**
 * mkdir -p that cannot loop: Node's recursive mkdirSync retries forever under a
 * parent that exists but refuses new entries with ENOENT (procfs, sysfs). Here each
 * level is made once, and an error that persists is thrown (naming the path).
 */
export function ensureDir(dir: string): void {
  try {
    mkdirSync(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      if (statSync(dir).isDirectory()) return;
      throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${dir}'`), { code: 'ENOTDIR', syscall: 'mkdir', path: dir });
    }
    if (code !== 'ENOENT' || dirname(dir) === dir) throw e;
    ensureDir(dirname(dir));
    mkdirSync(dir);
  }
}

/** Copies `from` to `to` atomically and durably. */
export const copyAtomic = (from: string, to: string) => writeAtomic(to, readFileSync(from));

/** Appends `text` and a newline to `file` (created if absent) and fsyncs it. */
export function appendLine(file: string, text: string): void {
  const created = !existsSync(file);
  const fd = openSync(file, 'a');
  const before = fstatSync(fd).size;
  try {
    writeAll(fd, Buffer.from(text + '\n', 'utf8'));
    fsyncSync(fd);
  } catch (e) {
    // A line written in part (a full disk) must not stay: the next append would join it. Cut back to before it.
    try {
      ftruncateSync(fd, before);
    } catch {
      // The file keeps a torn last line, which the next open drops.
    }
    throw named(e, file);
  } finally {
    closeSync(fd);
  }
  if (created) fsyncDir(dirname(file));
}

/**
 * Reads and parses a JSON file. `what` names it for people ("the run's config");
 * `fix` says what to do when it cannot be read.
 */
export function readJson<T>(file: string, what: string, fix = 'restore it from a copy, or start the run afresh with --force-new'): T {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new GlanceError('STORE_INVALID', `${file}: cannot read ${what} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, fix);
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new GlanceError('STORE_INVALID', `${file}: ${what} is not valid JSON (${(e as Error).message})`, fix);
  }
}
