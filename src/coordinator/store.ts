/**
 * The run store: one directory per run.
 *   config.json     the experiment and the store format (a resume of another experiment is refused)
 *   results.jsonl   one line per finished (or errored) job, fsynced before the job counts as done
 *   checkpoints/    trained weights + manifests, written by the training jobs
 *   meta.json       where and how the run was started (write-report.ts)
 *   running.json    the coordinator's pid and running jobs while a run is in progress
 *   run.log         what happened, for people
 * A crash can tear only the last line of results.jsonl; opening the store drops
 * such a line (truncating the file to its last complete line) so appends stay valid.
 * Only the process that opened the store (and so holds its lock, lock.ts) truncates:
 * a reader (status, report) could otherwise cut a line a live coordinator is writing.
 *
 * Every line carries the config hash of the experiment that wrote it
 * (experiments/config-hash.ts): a line of another experiment is refused when the
 * store is read, and results.jsonl without its config.json is adopted only by the
 * experiment whose hash every line carries.
 *
 * Store formats. 2: one model of one seed per training job. 1 (no "storeFormat"
 * in config.json): written by a glance that could train several seeds of a model
 * as one job (`"pack": n`, ids `train/<model>/seeds1+2+3`, the records in
 * `trains`). Such a store is read as format 2, each seed's record under its own
 * job id, so status and report work on it; a resume is refused when it holds
 * packed training, since those models were computed differently.
 */
import { appendFileSync, existsSync, mkdirSync, renameSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { GlanceError } from '../errors.js';
import { appendLine, readJson, writeAtomic } from '../data/durable.js';
import { isBlank, parseLine, scanLines, summarizeLine } from './store-lines.js';
import type { ExperimentConfig } from '../experiments/config.js';
import { configHash } from '../experiments/config-hash.js';
import { trainId } from '../experiments/grid.js';
import { MODELS, type EvalResult, type ModelName, type TrainRecord } from '../experiments/types.js';

export const STORE_FORMAT = 2;

export type JobLine = (
  | { jobId: string; status: 'done'; seconds: number; attempt: number; train?: TrainRecord; results?: EvalResult[]; at: string }
  | { jobId: string; status: 'errored'; error: string; attempt: number; at: string }
) & {
  /** configHash of the experiment that wrote the line; absent in lines of an older glance. */
  configHash?: string;
};

/** A config.json as stored: the experiment, the store format, and a format-1 store's seeds per training job. */
export interface StoredConfig {
  config: ExperimentConfig;
  format: number;
  /** Format 1 only: how many seeds of a model one training job trained together. */
  pack: number;
}

export interface StoreState {
  /** Last line per job id. */
  lines: Map<string, JobLine>;
  /** Whether a torn last line was found and dropped. */
  droppedTornLine: boolean;
}

/**
 * How much of each line to read: `results: false` leaves out evaluation results
 * (most of the bytes); `summary` keeps only id, status, seconds, attempt, time,
 * config hash and error (store-lines.ts), enough for `glance status`, and with
 * `train` a training's record too, enough to resume.
 */
export interface ReadOptions {
  results?: boolean;
  summary?: boolean;
  train?: boolean;
  /** With `summary`: a training's checkpoint name only, where its record says nothing more a resume needs (store-lines.ts). */
  checkpoint?: boolean;
}

const CONFIG_FIX = 'use another --out, or --force-new to start this run afresh';
const FOREIGN_FIX = (dir: string) =>
  `move the lines of the other experiment out of ${join(dir, 'results.jsonl')} (or move the file away), or join the right runs with glance merge DIR... --out DIR`;

export class RunStore {
  readonly configFile: string;
  readonly resultsFile: string;
  readonly checkpointDir: string;
  readonly logFile: string;

  /** The config hash of the experiment this store holds, once known (open, readStored). */
  private hash: string | undefined;
  /** Set by open(): this process writes the store, so it may truncate a torn last line. */
  private writer = false;

  constructor(readonly dir: string) {
    this.configFile = join(dir, 'config.json');
    this.resultsFile = join(dir, 'results.jsonl');
    this.checkpointDir = join(dir, 'checkpoints');
    this.logFile = join(dir, 'run.log');
  }

  exists(): boolean {
    return existsSync(this.configFile);
  }

  /** Throws unless this directory holds a run (its config.json). */
  requireRun(): void {
    if (!this.exists()) {
      throw new GlanceError('STORE_INVALID', `${this.dir} is not a run directory (no config.json)`, 'pass the --out directory of a run made by glance');
    }
  }

  readStored(): StoredConfig {
    const raw = readJson<Record<string, unknown>>(this.configFile, "the run's config", CONFIG_FIX);
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw new GlanceError('STORE_INVALID', `${this.configFile}: the run's config is not a JSON object`, CONFIG_FIX);
    }
    const { storeFormat, pack, ...config } = raw;
    const format = storeFormat ?? 1;
    if (typeof format !== 'number' || !Number.isInteger(format) || format < 1) {
      throw new GlanceError('STORE_INVALID', `${this.configFile}: storeFormat ${JSON.stringify(storeFormat)} is not a format number`, CONFIG_FIX);
    }
    if (format > STORE_FORMAT) {
      throw new GlanceError('STORE_FORMAT', `${this.dir} was written by a newer glance (store format ${format}; this one reads up to ${STORE_FORMAT})`, 'use the glance that wrote it, or update this one');
    }
    this.hash = configHash(config as unknown as ExperimentConfig);
    // Format 1 wrote the seeds per training job as a number, or nothing when each job trained one.
    return { config: config as unknown as ExperimentConfig, format, pack: format === 1 && typeof pack === 'number' ? pack : 1 };
  }

  readConfig(): ExperimentConfig {
    return this.readStored().config;
  }

  /** Writes config.json in the current format; `pack` > 1 keeps a format-1 store (merge of old stores) in its own format. */
  writeConfig(config: ExperimentConfig, pack = 1): void {
    const stored = pack > 1 ? { storeFormat: 1, ...config, pack } : { storeFormat: STORE_FORMAT, ...config };
    writeAtomic(this.configFile, JSON.stringify(stored, null, 2) + '\n');
  }

  /** Creates the store, or checks that an existing one holds the same experiment and can be resumed; then reads it. */
  open(config: ExperimentConfig, forceNew: boolean): StoreState {
    this.prepare(config, forceNew);
    // A resume needs which jobs are stored and the trainings' records, not the results (most of the bytes).
    return this.read({ summary: true, train: true });
  }

  /** open() without reading the lines: a caller that streams them (tally.ts) reads them itself, as their writer. */
  prepare(config: ExperimentConfig, forceNew: boolean): void {
    mkdirSync(this.checkpointDir, { recursive: true });
    this.writer = true;
    if (!this.exists() && !forceNew && existsSync(this.resultsFile)) this.adoptOrphanLines(config);
    if (this.exists() && !forceNew) {
      const stored = this.readStored();
      if (stored.pack > 1) {
        throw new GlanceError(
          'STORE_FORMAT',
          `${this.dir} was written by an older glance that trained ${stored.pack} seeds of a model as one job (--pack ${stored.pack}); ` +
            'it cannot be resumed, because its models were trained as one batched computation and new jobs would train each seed alone',
          `its stored results still report: glance report ${this.dir}; to run the rest, start a new run with another --out (--reuse-checkpoints does not take packed models), or pass --force-new to discard these results`,
        );
      }
      const diff = configDiff(stored.config, config);
      if (diff.length) {
        throw new GlanceError(
          'STORE_CONFLICT',
          `${this.dir} holds a run of a different experiment (${diff.slice(0, 5).join('; ')})`,
          'resume with the same options, choose another --out, or pass --force-new to discard the stored results',
        );
      }
      // Its job ids are this format's: record the format, so the next reader need not guess.
      if (stored.format < STORE_FORMAT) this.writeConfig(stored.config);
    } else {
      if (forceNew && existsSync(this.resultsFile)) renameSync(this.resultsFile, `${this.resultsFile}.${Date.now()}.old`);
      this.writeConfig(config);
    }
    this.hash = configHash(config);
  }

  /** Opens a store that exists, as the one process that writes it (queue collect): its config as stored. */
  openExisting(): StoreState {
    this.requireRun();
    this.readStored();
    this.writer = true;
    return this.read();
  }

  /**
   * results.jsonl without config.json (lost, or deleted by hand): its lines are
   * taken as this run's only when each carries this config's hash; otherwise
   * nothing says which experiment they belong to, and they are refused.
   */
  private adoptOrphanLines(config: ExperimentConfig): void {
    const want = configHash(config);
    const hashes = new Map<string, number>();
    // Streamed, as every read of the store: a lost config.json may leave a file of gigabytes.
    scanLines(this.resultsFile, (buf, start, end) => {
      if (isBlank(buf, start, end)) return;
      let hash: string;
      try {
        hash = summarizeLine(buf, start, end).configHash ?? 'none';
      } catch {
        return;
      }
      hashes.set(hash, (hashes.get(hash) ?? 0) + 1);
    });
    if (!hashes.size) return;
    const others = [...hashes].filter(([h]) => h !== want);
    if (others.length) {
      throw new GlanceError(
        'STORE_CONFLICT',
        `${this.dir} has results.jsonl but no config.json, and ${others.reduce((n, [, c]) => n + c, 0)} of its lines are not of this experiment ` +
          `(config hash ${want}; the lines carry ${others.map(([h, c]) => `${h === 'none' ? 'no hash' : h} x${c}`).join(', ')})`,
        `restore ${this.configFile} from a copy (or run the command that wrote it) to resume it, use another --out, or pass --force-new to keep the lines aside (results.jsonl.<time>.old) and start afresh`,
      );
    }
    this.writeConfig(config);
  }

  /**
   * Reads results.jsonl, dropping a torn last line (and truncating it away, when
   * this process opened the store). Format-1 lines are read as format 2. A line
   * whose config hash is not this store's is refused.
   */
  read(opts: ReadOptions = {}): StoreState {
    const lines = new Map<string, JobLine>();
    const { droppedTornLine } = this.scan((l) => lines.set(l.jobId, l), opts);
    return { lines, droppedTornLine };
  }

  /**
   * Streams results.jsonl line by line (store-lines.ts), the same checks as read();
   * `results: false` leaves out the evaluation results, most of a line's bytes,
   * for readers that need only which jobs are stored. Later lines of a job id
   * come after earlier ones: the last one visited is the one that counts.
   */
  scan(visit: (line: JobLine) => void, opts: ReadOptions = {}): { droppedTornLine: boolean } {
    if (this.hash === undefined && this.exists()) this.readStored();
    if (!existsSync(this.resultsFile)) return { droppedTornLine: false };
    const withResults = opts.results ?? true;
    // A line that does not parse is torn only if nothing but blank lines follows it.
    let bad: { offset: number; lineNo: number } | undefined;
    const damaged = (b: { offset: number; lineNo: number }) =>
      new GlanceError('STORE_INVALID', `${this.resultsFile}: line ${b.lineNo} (at byte ${b.offset}) is not valid JSON and is not the last line`, 'repair or remove that line by hand; the others are intact');
    let lineNo = 0;
    const end = scanLines(this.resultsFile, (buf, start, stop, offset) => {
      lineNo++;
      if (isBlank(buf, start, stop)) return;
      if (bad) throw damaged(bad);
      let parsed: JobLine;
      try {
        parsed = opts.summary ? (summarizeLine(buf, start, stop, { train: opts.train, checkpoint: opts.checkpoint }) as JobLine) : parseLine<JobLine>(buf, start, stop, { results: withResults });
      } catch {
        bad = { offset, lineNo };
        return;
      }
      if (parsed.configHash !== undefined && this.hash !== undefined && parsed.configHash !== this.hash) {
        throw new GlanceError(
          'STORE_CONFLICT',
          `${this.resultsFile}: line ${lineNo} (${parsed.jobId}) is a result of another experiment (config hash ${parsed.configHash}; this run's config.json has ${this.hash})`,
          FOREIGN_FIX(this.dir),
        );
      }
      if (PACKED_ID.test(parsed.jobId)) for (const l of fromFormat1(parsed)) visit(l);
      else visit(parsed);
    });
    const tail = !isBlank(end.tail, 0, end.tail.length);
    if (bad && tail) throw damaged(bad);
    if (!bad && !tail) return { droppedTornLine: false };
    if (this.writer) truncateSync(this.resultsFile, bad ? bad.offset : end.complete);
    return { droppedTornLine: true };
  }

  /**
   * Refuses stored lines whose job id is not in the experiment's grid (`ids`: every
   * job id of its config). Lines of an older glance (no config hash) are let be:
   * its job ids had other forms, and status and report still read such stores.
   */
  checkJobIds(lines: Map<string, JobLine>, ids: Set<string>): void {
    const foreign: string[] = [];
    for (const [id, l] of lines) if (l.configHash !== undefined && !ids.has(id)) foreign.push(id);
    if (!foreign.length) return;
    throw new GlanceError(
      'STORE_CONFLICT',
      `${this.resultsFile} holds ${foreign.length} job${foreign.length > 1 ? 's' : ''} that this run's experiment does not have (${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', ...' : ''})`,
      FOREIGN_FIX(this.dir),
    );
  }

  /** Appends a job's line, stamped with the config hash, and fsyncs it: only then does the job count as done. */
  append(line: JobLine): void {
    appendLine(this.resultsFile, JSON.stringify(this.hash === undefined ? line : { ...line, configHash: this.hash }));
  }

  /**
   * Replaces results.jsonl with the lines `produce` emits, in that order (merge).
   * Written in pieces: V8 refuses a string past about 512 MB, and a merge of a
   * million lines must not hold them all.
   */
  writeLines(produce: (emit: (line: JobLine) => void) => void): void {
    writeAtomic(this.resultsFile, (write) => {
      let chunk: Buffer[] = [];
      let size = 0;
      produce((line) => {
        const b = Buffer.from(JSON.stringify(line) + '\n');
        chunk.push(b);
        size += b.length;
        if (size >= 8 << 20) {
          write(Buffer.concat(chunk));
          chunk = [];
          size = 0;
        }
      });
      if (chunk.length) write(Buffer.concat(chunk));
    });
  }

  log(message: string): void {
    appendFileSync(this.logFile, `${new Date().toISOString()} ${message}\n`);
  }
}

/** A format-1 packed training job's id, `train/<model>/seeds1+2+3`. */
const PACKED_ID = /^train\/([^/]+)\/seeds(\d+(?:\+\d+)+)$/;

/**
 * A line as format 2 reads it: a format-1 packed training job becomes one line per
 * seed under that seed's job id (done: with its record from `trains`; errored: the
 * error), so the grid's per-seed ids find them. Every other line is unchanged.
 */
function fromFormat1(line: JobLine & { trains?: TrainRecord[] }): JobLine[] {
  const packed = PACKED_ID.exec(line.jobId);
  if (!packed || !(MODELS as readonly string[]).includes(packed[1])) return [line];
  const model = packed[1] as ModelName;
  const seeds = packed[2].split('+').map(Number);
  if (line.status === 'errored') return seeds.map((seed) => ({ ...line, jobId: trainId(model, seed) }));
  const { trains, ...rest } = line;
  return seeds.map((seed) => ({ ...rest, jobId: trainId(model, seed), train: trains?.find((t) => t.seed === seed) }));
}

/** The paths where two configs differ. */
export function configDiff(a: unknown, b: unknown, path = ''): string[] {
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) {
    return JSON.stringify(a) === JSON.stringify(b) ? [] : [`${path || 'config'}: stored ${JSON.stringify(a)}, now ${JSON.stringify(b)}`];
  }
  if (Array.isArray(a)) return JSON.stringify(a) === JSON.stringify(b) ? [] : [`${path}: stored ${JSON.stringify(a)}, now ${JSON.stringify(b)}`];
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].flatMap((k) => configDiff((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k));
}

/** running.json: the coordinator's pid and its running jobs while a run is in progress. */
export const runningFile = (runDir: string) => join(runDir, 'running.json');

/** Writes `value` as pretty JSON, atomically and durably. */
export function writeJson(file: string, value: unknown): void {
  writeAtomic(file, JSON.stringify(value, null, 2) + '\n');
}
