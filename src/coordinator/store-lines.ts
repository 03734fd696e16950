/**
 * Reading results.jsonl at any size: the file is read in chunks and cut at
 * newlines (never held as one string: V8 refuses strings past about 512 MB, a
 * store of a million lines is gigabytes), and each line is parsed on its own.
 * Most of an evaluation line is its results (per-example bits, about 1.7 KB per
 * result); a reader that needs only which jobs are stored (status, resume)
 * parses the line without its "results" array, which it finds as bytes.
 */
import { closeSync, openSync, readSync } from 'node:fs';

const CHUNK = 8 << 20;
const NEWLINE = 0x0a;
const RESULTS_KEY = Buffer.from(',"results":[');
const RESULTS_END = Buffer.from('}],"');

/** Where the complete lines end, and whether something follows them without a newline. */
export interface ScanEnd {
  /** Byte length of the file up to and including its last newline. */
  complete: number;
  /** Bytes after the last newline (a line cut by a crash, unless it is only whitespace). */
  tail: Buffer;
}

/** Calls `visit` with every newline-terminated line of `file` (its bytes, without the newline) and its byte offset. */
export function scanLines(file: string, visit: (buf: Buffer, start: number, end: number, offset: number) => void): ScanEnd {
  const fd = openSync(file, 'r');
  try {
    let buf = Buffer.allocUnsafe(CHUNK);
    // buf[0, have) holds bytes not yet cut into lines; `base` is the file offset of buf[0].
    let have = 0;
    let base = 0;
    for (;;) {
      if (have === buf.length) {
        // A line longer than the buffer: grow it.
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, have);
        buf = bigger;
      }
      const n = readSync(fd, buf, have, buf.length - have, base + have);
      if (n === 0) return { complete: base, tail: Buffer.from(buf.subarray(0, have)) };
      const end = have + n;
      const view = buf.subarray(0, end);
      let start = 0;
      // Only the bytes just read can hold a newline not yet seen.
      let nl = view.indexOf(NEWLINE, have);
      while (nl !== -1) {
        visit(view, start, nl, base + start);
        start = nl + 1;
        nl = view.indexOf(NEWLINE, start);
      }
      buf.copy(buf, 0, start, end);
      have = end - start;
      base += start;
    }
  } finally {
    closeSync(fd);
  }
}

/** A line without any non-whitespace byte. */
export function isBlank(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = buf[i];
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d) return false;
  }
  return true;
}

/**
 * Parses one line; with `results: false` an evaluation line is parsed without
 * its "results" array (cut out as bytes as JSON.stringify writes it: the key,
 * then objects, then the next key). A line of any other layout is parsed whole
 * and its results dropped, so the cut is only a shortcut. Throws SyntaxError.
 */
export function parseLine<T extends object>(buf: Buffer, start: number, end: number, opts: { results: boolean }): T {
  if (!opts.results) {
    // Searched within the line only: a search of the whole chunk from a line without results would run to the next one that has them.
    const line = buf.subarray(start, end);
    const at = line.indexOf(RESULTS_KEY);
    if (at !== -1) {
      // An empty array has no closing object: its end is right there, not the next "}]," of the line.
      const empty = line[at + RESULTS_KEY.length] === 0x5d;
      const close = empty ? at + RESULTS_KEY.length - 1 : line.indexOf(RESULTS_END, at);
      if (close !== -1) {
        const text = line.toString('utf8', 0, at) + line.toString('utf8', close + 2);
        try {
          return JSON.parse(text) as T;
        } catch {
          // Not the layout we cut for: parse the whole line below.
        }
      }
    }
  }
  const line = JSON.parse(buf.toString('utf8', start, end)) as T;
  if (!opts.results) delete (line as { results?: unknown }).results;
  return line;
}

/** What `glance status` needs of a line: which job, done or errored, when, how long; the error of an errored one. */
export interface LineSummary {
  jobId: string;
  status: 'done' | 'errored';
  seconds: number;
  attempt: number;
  at: string;
  configHash?: string;
  error?: string;
}

const HEAD = /^\{"jobId":"((?:[^"\\]|\\.)*)","status":"done","seconds":(-?[0-9.eE+-]+),"attempt":(\d+),/;
const TAIL = /"at":"([^"\\]*)"(?:,"configHash":"([0-9a-f]*)")?\}$/;

/**
 * A line's summary from its first and last bytes alone, as the scheduler writes
 * a done line (jobId, status, seconds, attempt first; at and the config hash
 * last); an errored line, or one of another layout, is parsed whole.
 */
export function summarizeLine(buf: Buffer, start: number, end: number): LineSummary {
  const head = HEAD.exec(buf.toString('latin1', start, Math.min(end, start + 256)));
  const tail = head && TAIL.exec(buf.toString('latin1', Math.max(start, end - 200), end));
  if (head && tail) {
    const jobId = head[1].includes('\\') ? (JSON.parse(`"${head[1]}"`) as string) : head[1];
    const s: LineSummary = { jobId, status: 'done', seconds: Number(head[2]), attempt: Number(head[3]), at: tail[1] };
    if (tail[2] !== undefined) s.configHash = tail[2];
    return s;
  }
  const l = JSON.parse(buf.toString('utf8', start, end)) as LineSummary & Record<string, unknown>;
  const s: LineSummary = { jobId: l.jobId, status: l.status, seconds: l.seconds, attempt: l.attempt, at: l.at };
  if (l.configHash !== undefined) s.configHash = l.configHash;
  if (l.error !== undefined) s.error = l.error;
  return s;
}
