/**
 * Reading results.jsonl at any size: the file is read in chunks and cut at
 * newlines (never held as one string: V8 refuses strings past about 512 MB, a
 * store of a million lines is gigabytes), and each line is parsed on its own.
 * Most of an evaluation line is its results (per-example bits, about 1.7 KB per
 * result); a reader that needs only which jobs are stored (status, resume)
 * parses the line without its "results" array, which it finds as bytes.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import type { TrainRecord } from '../experiments/types.js';

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

/** What `glance status` and a resume need of a line: which job, done or errored, when, how long; an errored one's error; a training's record when asked for. */
export interface LineSummary {
  jobId: string;
  status: 'done' | 'errored';
  seconds: number;
  attempt: number;
  at: string;
  configHash?: string;
  error?: string;
  /** A training's record: whole, or only its checkpoint name (summarizeLine's `checkpoint`). */
  train?: Pick<TrainRecord, 'checkpoint'> & Partial<TrainRecord>;
}

const ID_HEAD = Buffer.from('{"jobId":"');
const DONE_MID = Buffer.from('","status":"done","seconds":');
const ATTEMPT = Buffer.from(',"attempt":');
const AT = Buffer.from('"at":"');
const HASH = Buffer.from(',"configHash":"');
const HASH_KEY = HASH.subarray(1);
const [QUOTE, BACKSLASH, COMMA, CLOSE] = [0x22, 0x5c, 0x2c, 0x7d];

/** Whether buf[at, end) begins with `prefix`. */
function startsAt(buf: Buffer, at: number, end: number, prefix: Buffer): boolean {
  if (at + prefix.length > end) return false;
  // A loop, not Buffer.compare: for a few bytes, the call into C++ costs more than the comparison.
  for (let i = 0; i < prefix.length; i++) if (buf[at + i] !== prefix[i]) return false;
  return true;
}

/**
 * A done line's summary from its first and last bytes, as the scheduler writes
 * one (jobId, status, seconds, attempt first; at and the config hash last), or
 * undefined for a line of any other layout. Each field is decoded from its own
 * bytes, so the summaries of 100,000 lines hold no slice of a larger string.
 */
function summarizeDone(buf: Buffer, start: number, end: number): LineSummary | undefined {
  if (end - start < 64 || buf[end - 1] !== CLOSE || !startsAt(buf, start, end, ID_HEAD)) return undefined;
  const idStart = start + ID_HEAD.length;
  const idEnd = buf.indexOf(QUOTE, idStart);
  if (idEnd === -1 || idEnd >= end || !startsAt(buf, idEnd, end, DONE_MID)) return undefined;
  for (let i = idStart; i < idEnd; i++) if (buf[i] === BACKSLASH) return undefined;
  const secStart = idEnd + DONE_MID.length;
  const secEnd = buf.indexOf(COMMA, secStart);
  if (secEnd === -1 || secEnd >= end || !startsAt(buf, secEnd, end, ATTEMPT)) return undefined;
  const attStart = secEnd + ATTEMPT.length;
  const attEnd = buf.indexOf(COMMA, attStart);
  if (attEnd === -1 || attEnd >= end) return undefined;
  const seconds = Number(buf.toString('latin1', secStart, secEnd));
  const attempt = Number(buf.toString('latin1', attStart, attEnd));
  if (!Number.isFinite(seconds) || !Number.isInteger(attempt)) return undefined;
  // The tail: `"at":"<time>"}` or `"at":"<time>","configHash":"<hex>"}`.
  // Searched in the line's last bytes only: a search of the whole buffer would run into the lines before it.
  const from = Math.max(attEnd, end - 200);
  const found = buf.subarray(from, end).lastIndexOf(AT);
  if (found === -1) return undefined;
  const key = from + found;
  const atStart = key + AT.length;
  const atEnd = buf.indexOf(QUOTE, atStart);
  if (atEnd === -1 || atEnd >= end) return undefined;
  const s: LineSummary = { jobId: buf.toString('utf8', idStart, idEnd), status: 'done', seconds, attempt, at: buf.toString('latin1', atStart, atEnd) };
  // No hash at the tail: a line of an older glance, unless one stands elsewhere (then read it whole).
  if (atEnd + 2 === end) return buf.subarray(start, end).indexOf(HASH_KEY) === -1 ? s : undefined;
  if (!startsAt(buf, atEnd + 1, end, HASH) || buf[end - 2] !== QUOTE) return undefined;
  const hash = buf.toString('latin1', atEnd + 1 + HASH.length, end - 2);
  if (!/^[0-9a-f]*$/.test(hash)) return undefined;
  s.configHash = hash;
  return s;
}

const CHECKPOINT_KEY = Buffer.from('"checkpoint":"');
const REUSED_KEY = Buffer.from('"reusedFrom"');

/** A training line's checkpoint name from its first bytes, unless the line says more that a reader needs (a reused model). */
function checkpointOf(buf: Buffer, start: number, end: number): string | undefined {
  const line = buf.subarray(start, end);
  const at = line.subarray(0, 512).indexOf(CHECKPOINT_KEY);
  if (at === -1 || line.indexOf(REUSED_KEY) !== -1) return undefined;
  const from = at + CHECKPOINT_KEY.length;
  const to = line.indexOf(QUOTE, from);
  if (to === -1) return undefined;
  for (let i = from; i < to; i++) if (line[i] === BACKSLASH) return undefined;
  return line.toString('utf8', from, to);
}

/**
 * A line's summary. A done line as the scheduler writes it is read from its first
 * and last bytes alone; an errored line and one of another layout are parsed
 * whole. A training's line carries its record with `train` (parsed whole), or
 * only its checkpoint name with `checkpoint` (read from its bytes when it can be).
 */
export function summarizeLine(buf: Buffer, start: number, end: number, opts: { train?: boolean; checkpoint?: boolean } = {}): LineSummary {
  const fast = summarizeDone(buf, start, end);
  const training = fast?.jobId.startsWith('train/') && (opts.train || opts.checkpoint);
  if (fast && !training) return fast;
  // A packed training of an older glance keeps its records as `trains`: parsed whole below.
  if (fast && opts.checkpoint && !opts.train && !fast.jobId.includes('/seeds')) {
    const checkpoint = checkpointOf(buf, start, end);
    if (checkpoint !== undefined) {
      fast.train = { checkpoint };
      return fast;
    }
  }
  const l = parseLine<LineSummary & Record<string, unknown>>(buf, start, end, { results: false });
  const s: LineSummary = { jobId: l.jobId, status: l.status, seconds: l.seconds, attempt: l.attempt, at: l.at };
  if (l.configHash !== undefined) s.configHash = l.configHash;
  if (l.error !== undefined) s.error = l.error;
  if ((opts.train || opts.checkpoint) && typeof l.jobId === 'string' && l.jobId.startsWith('train/')) {
    // A store of format 1 keeps a packed training's records as `trains` (store.ts reads them per seed).
    if (l.train !== undefined) s.train = l.train as LineSummary['train'];
    if (l.trains !== undefined) (s as unknown as Record<string, unknown>).trains = l.trains;
  }
  return s;
}
