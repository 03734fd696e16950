/**
 * The run store: one directory per run.
 *   config.json     the experiment (refused on resume if it differs)
 *   results.jsonl   one line per finished (or errored) job, fsynced before the job counts as done
 *   checkpoints/    trained weights + manifests, written by the training jobs
 *   run.log         what happened, for people
 * A crash can tear only the last line of results.jsonl; opening the store drops
 * such a line (truncating the file to its last complete line) so appends stay valid.
 */
import { appendFileSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, truncateSync, writeFileSync, writeSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { GlanceError } from '../errors.js';
import type { ExperimentConfig } from '../experiments/config.js';
import type { EvalResult, BackendInfo, ModelName } from '../experiments/types.js';

export interface TrainRecord {
  model: ModelName;
  seed: number;
  checkpoint: string;
  history: Array<{ epoch: number; loss: number; accuracy: number; samplesPerSec: number; seconds: number }>;
  backend: BackendInfo;
  /** Set when the model was not trained in this run but copied (--reuse-checkpoints). */
  reusedFrom?: string;
  /** The seeds this model was trained together with as one packed computation (--pack), itself included. */
  packedWith?: number[];
}

export type JobLine =
  | { jobId: string; status: 'done'; seconds: number; attempt: number; train?: TrainRecord; trains?: TrainRecord[]; results?: EvalResult[]; at: string }
  | { jobId: string; status: 'errored'; error: string; attempt: number; at: string };

/** The models a job (line or outcome) trained: one, or each seed of a pack (`trains`). */
export const trainRecords = (x: { train?: TrainRecord; trains?: TrainRecord[] }): TrainRecord[] => x.trains ?? (x.train ? [x.train] : []);

export interface StoreState {
  /** Last line per job id. */
  lines: Map<string, JobLine>;
  /** Whether a torn last line was found and dropped. */
  droppedTornLine: boolean;
}

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

  readConfig(): ExperimentConfig {
    try {
      const config = JSON.parse(readFileSync(this.configFile, 'utf8')) as ExperimentConfig;
      // A run stored before --pack existed trained one seed per job.
      config.pack ??= 1;
      return config;
    } catch (e) {
      throw new GlanceError('STORE_INVALID', `${this.configFile}: cannot read the run's config (${(e as Error).message})`, 'use another --out, or --force-new to start this run afresh');
    }
  }

  /** Creates the store, or checks that an existing one holds the same experiment. */
  open(config: ExperimentConfig, forceNew: boolean): StoreState {
    mkdirSync(this.checkpointDir, { recursive: true });
    if (this.exists() && !forceNew) {
      const stored = this.readConfig();
      const diff = configDiff(stored, config);
      if (diff.length) {
        throw new GlanceError(
          'STORE_CONFLICT',
          `${this.dir} holds a run of a different experiment (${diff.slice(0, 5).join('; ')})`,
          'resume with the same options, choose another --out, or pass --force-new to discard the stored results',
        );
      }
    } else {
      if (forceNew) for (const f of [this.resultsFile]) if (existsSync(f)) renameSync(f, `${f}.${Date.now()}.old`);
      atomicWrite(this.configFile, JSON.stringify(config, null, 2) + '\n');
    }
    return this.read();
  }

  /** Reads results.jsonl, dropping (and truncating away) a torn last line. */
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
      if (parsed) lines.set(parsed.jobId, parsed);
      pos = nl + 1;
      good = pos;
    }
    if (droppedTornLine) truncateSync(this.resultsFile, Buffer.byteLength(text.slice(0, good)));
    return { lines, droppedTornLine };
  }

  /** Appends a job's line and fsyncs it: only then does the job count as done. */
  append(line: JobLine): void {
    const fd = openSync(this.resultsFile, 'a');
    try {
      writeSync(fd, JSON.stringify(line) + '\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  log(message: string): void {
    appendFileSync(this.logFile, `${new Date().toISOString()} ${message}\n`);
  }
}

export function atomicWrite(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

/** The paths where two configs differ, ignoring fields that do not change results. */
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

export function writeJson(file: string, value: unknown): void {
  writeFileSync(file, JSON.stringify(value, null, 2) + '\n');
}
