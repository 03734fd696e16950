/**
 * meta.json: where and how a run was started, recorded when it starts (and again
 * at each resume), so a report rendered later or elsewhere cites the machine and
 * code that computed the numbers, not the ones that render them.
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { arch, cpus, release, totalmem, type } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readJson } from '../data/durable.js';
import { GlanceError } from '../errors.js';
import type { ExperimentConfig, Stage } from '../experiments/config.js';
import { buildJobs, forEachJob, shardJobs, type Job } from '../experiments/grid.js';
import { writeJson } from './store.js';

export interface Machine {
  cpu: string;
  /** Logical CPUs. */
  cores: number;
  memoryBytes: number;
  /** OS name and kernel release, e.g. "Linux 6.1.0". */
  os: string;
  arch: string;
  node: string;
}

export interface RunMeta {
  /** Size of the evaluation split, so the job grid can be rebuilt without the dataset. */
  splitSize: number;
  datasetFingerprint: string;
  /** The data files' stamp when the fingerprint was taken (datasetStamp); absent in metas of an older glance. */
  dataStamp?: string;
  /** The command that started the run, for "how to reproduce". */
  command: string;
  shard?: { index: number; count: number };
  /** 'train' when the run was (last) started to do only its training jobs. */
  stage?: Stage;
  versions: Record<string, string>;
  /** The code's git commit when the run was (last) started. */
  commit?: string;
  /** The machine the run was (last) started on; absent in metas of an older glance. */
  machine?: Machine;
  /** A merge of stores that ran on different machines: each of them. */
  machines?: Machine[];
}

export const metaFile = (runDir: string) => join(runDir, 'meta.json');

const META_FIX = 'run the same command again to rewrite it (finished jobs are kept)';

/** The run's meta.json, checked for what readers rely on; undefined when the run has none. */
export function readMeta(runDir: string): RunMeta | undefined {
  const file = metaFile(runDir);
  if (!existsSync(file)) return undefined;
  const meta = readJson<RunMeta>(file, "the run's meta.json", META_FIX);
  const wrong = (what: string) => new GlanceError('STORE_INVALID', `${file}: the run's meta.json is not a meta.json of glance (${what})`, META_FIX);
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) throw wrong('expected a JSON object');
  if (typeof meta.splitSize !== 'number' || !Number.isInteger(meta.splitSize) || meta.splitSize < 0) throw wrong('splitSize: expected a number');
  if (typeof meta.datasetFingerprint !== 'string') throw wrong('datasetFingerprint: expected a string');
  if (typeof meta.command !== 'string') throw wrong('command: expected a string');
  if (typeof meta.versions !== 'object' || meta.versions === null) throw wrong('versions: expected an object');
  return meta;
}

export const writeMeta = (runDir: string, meta: RunMeta) => writeJson(metaFile(runDir), meta);

/** The jobs of a run: its config's grid, cut to its --shard slice (and to its training jobs for --stage train). */
export function jobsOfRun(config: ExperimentConfig, meta: Pick<RunMeta, 'splitSize' | 'shard' | 'stage'>): Job[] {
  return jobsOfGrid(buildJobs(config, meta.splitSize), meta);
}

/** Visits the run's jobs (as jobsOfRun returns them) one at a time; without --shard it never holds the whole grid. */
export function forEachJobOfRun(config: ExperimentConfig, meta: Pick<RunMeta, 'splitSize' | 'shard' | 'stage'>, visit: (job: Job) => void): void {
  if (meta.shard) jobsOfRun(config, meta).forEach((j) => visit(j));
  else forEachJob(config, meta.splitSize, (j) => (meta.stage === 'train' && j.kind !== 'train' ? undefined : visit(j)));
}

/** The run's jobs of its whole grid (`all`, from buildJobs): its --shard slice, its --stage. */
export function jobsOfGrid(all: Job[], meta: Pick<RunMeta, 'shard' | 'stage'>): Job[] {
  const jobs = meta.shard ? shardJobs(all, meta.shard) : all;
  return meta.stage === 'train' ? jobs.filter((j) => j.kind === 'train') : jobs;
}

export function machineInfo(): Machine {
  const cpu = cpus();
  return {
    cpu: cpu[0]?.model.trim() || 'unknown CPU',
    cores: cpu.length,
    memoryBytes: totalmem(),
    os: `${type()} ${release()}`,
    arch: arch(),
    node: process.versions.node,
  };
}

export const describeMachine = (m: Machine) =>
  `${m.cores} x ${m.cpu}, ${(m.memoryBytes / 2 ** 30).toFixed(0)} GiB, ${m.os} ${m.arch}, Node ${m.node}`;

/** The commit of the code that runs (asked in its own directory, not the caller's cwd); '-dirty' when it has local changes. */
export function gitCommit(): string {
  try {
    const cwd = dirname(fileURLToPath(import.meta.url));
    return execFileSync('git', ['describe', '--always', '--dirty', '--abbrev=7'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

const require = createRequire(import.meta.url);

/** Versions of Node, tfjs and glance-bench, read from package.json files (tfjs itself is not loaded). */
export function libraryVersions(): Record<string, string> {
  const v = (name: string) => {
    try {
      return (require(`${name}/package.json`) as { version: string }).version;
    } catch {
      return 'absent';
    }
  };
  // From src/coordinator or dist/src/coordinator: the first package.json up is ours.
  const own =
    ['../../package.json', '../../../package.json']
      .map((p) => {
        try {
          const pkg = require(p) as { name?: string; version?: string };
          return pkg.name === 'glance-bench' ? pkg.version : undefined;
        } catch {
          return undefined;
        }
      })
      .find((x) => x !== undefined) ?? 'absent';
  return { node: process.versions.node, '@tensorflow/tfjs': v('@tensorflow/tfjs'), 'glance-bench': own };
}
