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
 *
 * Store formats. 2: one model of one seed per training job. 1 (no "storeFormat"
 * in config.json): written by a glance that could train several seeds of a model
 * as one job (`"pack": n`, ids `train/<model>/seeds1+2+3`, the records in
 * `trains`). Such a store is read as format 2, each seed's record under its own
 * job id, so status and report work on it; a resume is refused when it holds
 * packed training, since those models were computed differently.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { GlanceError } from '../errors.js';
import { appendLine, readJson, writeAtomic } from '../data/durable.js';
import type { ExperimentConfig } from '../experiments/config.js';
import { trainId } from '../experiments/grid.js';
import { MODELS, type EvalResult, type ModelName, type TrainRecord } from '../experiments/types.js';

export const STORE_FORMAT = 2;

export type JobLine =
  | { jobId: string; status: 'done'; seconds: number; attempt: number; train?: TrainRecord; results?: EvalResult[]; at: string }
  | { jobId: string; status: 'errored'; error: string; attempt: number; at: string };

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

const CONFIG_FIX = 'use another --out, or --force-new to start this run afresh';

export class RunStore {
  readonly configFile: string;
  readonly resultsFile: string;
  readonly checkpointDir: string;
  readonly logFile: string;

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

  /** Creates the store, or checks that an existing one holds the same experiment and can be resumed. */
  open(config: ExperimentConfig, forceNew: boolean): StoreState {
    mkdirSync(this.checkpointDir, { recursive: true });
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
    return this.read();
  }

  /** Reads results.jsonl, dropping (and truncating away) a torn last line. Format-1 lines are read as format 2. */
  read(): StoreState {
    const lines = new Map<string, JobLine>();
    if (!existsSync(this.resultsFile)) return { lines, droppedTornLine: false };
    const text = readFileSync(this.resultsFile, 'utf8');
    let good = 0;
    let droppedTornLine = false;
    let pos = 0;
    while (pos < text.length) {
      const nl = text.indexOf('\n', pos);
      const line = text.slice(pos, nl === -1 ? text.length : nl);
      let parsed: JobLine | undefined;
      try {
        parsed = line.trim() ? (JSON.parse(line) as JobLine) : undefined;
      } catch {
        parsed = undefined;
      }
      if (nl === -1 || (line.trim() && !parsed)) {
        // Only the last line can be torn by a crash; anything else is damage.
        if (nl !== -1 && text.slice(nl + 1).trim()) {
          throw new GlanceError('STORE_INVALID', `${this.resultsFile}: line at byte ${pos} is not valid JSON and is not the last line`, 'repair or remove that line by hand; the others are intact');
        }
        droppedTornLine = true;
        break;
      }
      if (parsed) for (const l of fromFormat1(parsed)) lines.set(l.jobId, l);
      pos = nl + 1;
      good = pos;
    }
    if (droppedTornLine) truncateSync(this.resultsFile, Buffer.byteLength(text.slice(0, good)));
    return { lines, droppedTornLine };
  }

  /** Appends a job's line and fsyncs it: only then does the job count as done. */
  append(line: JobLine): void {
    appendLine(this.resultsFile, JSON.stringify(line));
  }

  /** Replaces results.jsonl with `lines` (merge). */
  writeLines(lines: Iterable<JobLine>): void {
    writeAtomic(this.resultsFile, [...lines].map((l) => JSON.stringify(l) + '\n').join(''));
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
