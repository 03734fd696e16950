/**
 * Opening a run, the one way a local run (run.ts) and a queue submitter
 * (queue-run.ts) both do it: take the run directory's lock (lock.ts) before
 * anything else, fingerprint the dataset (datasetStamp spares the hashing when its
 * files are unchanged), open or resume the store (the same experiment,
 * its lines of this experiment's grid), check that the data under a resumed run is
 * the data it ran on and that its finished trainings' checkpoints are intact and
 * its own, record where the run starts (meta.json), and copy reusable models
 * (--reuse-checkpoints). Whatever refuses the run releases the lock.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { resolveDataset } from '../data/registry.js';
import { datasetStamp, loadShared, type SharedDataset } from '../data/shared.js';
import { GlanceError } from '../errors.js';
import type { ExperimentConfig, RunOptions } from '../experiments/config.js';
import { configHash } from '../experiments/config-hash.js';
import { buildJobs, type Job } from '../experiments/grid.js';
import { netSpec } from '../experiments/models.js';
import type { TrainRecord } from '../experiments/types.js';
import { writeAtomic } from '../data/durable.js';
import { CHECKPOINT_FORMAT, checkpointExists, checkpointFiles, loadCheckpoint } from '../training/checkpoint.js';
import { acquireRunLock, type RunLock } from './lock.js';
import { gitCommit, jobsOfGrid, libraryVersions, machineInfo, readMeta, writeMeta, type RunMeta } from './meta.js';
import { reuseCheckpoints } from './reuse.js';
import { RunStore, type StoreState } from './store.js';
import { tallyRun } from './tally.js';

export type OpenOptions = Pick<RunOptions, 'out' | 'shard' | 'stage' | 'forceNew' | 'reuseCheckpoints'>;

export interface OpenedRun {
  store: RunStore;
  state: StoreState;
  meta: RunMeta;
  /** This run's jobs (its --shard slice, its --stage). */
  jobs: Job[];
  /** Loaded on first use: a resume whose data files are unchanged (datasetStamp) needs only the fingerprint it recorded. */
  readonly dataset: SharedDataset;
  versions: Record<string, string>;
  /** Held until the caller releases it (or the process exits). */
  lock: RunLock;
  /** What the user should read before the run starts (limits as used, reuse refusals). */
  notes: string[];
  /** Set when every job of the run is stored and holds: nothing to run (`jobs` and `state` are then built only if read). */
  finished?: { total: number };
}

/** Checks each --reuse-checkpoints directory before any model is taken from it. */
export function checkReuseDirs(dirs: string[]): void {
  for (const dir of dirs) {
    const fix = "pass the checkpoints/ directory of an earlier run, e.g. --reuse-checkpoints runs/paper-2026-12-01/checkpoints";
    if (!existsSync(dir)) throw new GlanceError('BAD_OPTION', `--reuse-checkpoints ${dir}: no such directory`, fix);
    if (!statSync(dir).isDirectory()) throw new GlanceError('BAD_OPTION', `--reuse-checkpoints ${dir}: not a directory`, fix);
    const isManifest = (f: string) => {
      try {
        return f.endsWith('.json') && (JSON.parse(readFileSync(join(dir, f), 'utf8')) as { format?: unknown }).format === CHECKPOINT_FORMAT;
      } catch {
        return false;
      }
    };
    const manifests = readdirSync(dir).filter(isManifest);
    if (!manifests.length) {
      const inside = join(dir, 'checkpoints');
      throw new GlanceError(
        'BAD_OPTION',
        `--reuse-checkpoints ${dir}: holds no checkpoint manifest (a *.json of format ${CHECKPOINT_FORMAT})`,
        existsSync(inside) ? `did you mean --reuse-checkpoints ${inside}?` : fix,
      );
    }
  }
}

export function openRun(config: ExperimentConfig, opts: OpenOptions, command: string): OpenedRun {
  // Refused before anything is checked or loaded: a second coordinator must not even read a half-written store.
  if (opts.reuseCheckpoints.length) checkReuseDirs(opts.reuseCheckpoints);
  const lock = acquireRunLock(opts.out, command);
  try {
    return openLocked(config, opts, command, lock);
  } catch (e) {
    lock.release();
    throw e;
  }
}

function openLocked(config: ExperimentConfig, opts: OpenOptions, command: string, lock: RunLock): OpenedRun {
  const notes: string[] = [];
  const source = resolveDataset({ dataset: config.dataset, dataDir: config.dataDir });
  const dataStamp = datasetStamp(source);
  const store = new RunStore(opts.out);
  // The store first: a run that cannot be resumed is refused before any worker starts.
  store.prepare(config, opts.forceNew);

  let before: RunMeta | undefined;
  try {
    before = opts.forceNew ? undefined : readMeta(opts.out);
  } catch (e) {
    // The checkpoints' manifests still carry the data fingerprint, and they are checked below.
    notes.push(`${(e as Error).message}; it is rewritten now`);
  }
  // The data is loaded (and hashed) when a job is to run, or now when its files changed since the run recorded their fingerprint.
  let dataset: SharedDataset | undefined;
  const load = () => (dataset ??= loadShared(source));
  const known = before?.dataStamp === dataStamp && Number.isInteger(before.splitSize) ? before : undefined;
  const fingerprint = known ? known.datasetFingerprint : load().fingerprint;
  const splitSize = known ? known.splitSize : load()[config.eval.split].count;
  const where = { splitSize, shard: opts.shard, ...(opts.stage === 'train' ? { stage: opts.stage } : {}) };
  // Streamed (tally.ts): a resume with nothing left to do is decided without holding the grid or the lines.
  const tally = tallyRun(store, config, where, { train: true });
  if (tally.droppedTornLine) store.log('dropped a torn last line of results.jsonl (a crash mid-write)');
  const storedJobs = tally.seconds.size + tally.erroredLines.size;

  if (before && storedJobs && before.datasetFingerprint !== fingerprint) {
    throw new GlanceError(
      'STORE_CONFLICT',
      `the data under ${opts.out} changed: its ${storedJobs} stored jobs ran on data ${before.datasetFingerprint}, ` +
        `${config.dataDir ?? config.dataset} is now ${fingerprint}`,
      'restore the dataset the run used (glance data check shows its fingerprint), or start afresh with --force-new or another --out',
    );
  }

  // Nothing left: every job stored as done, no line of another grid, every training with its record (its checkpoint is checked below).
  let finished =
    !opts.reuseCheckpoints.length &&
    tally.left.length + tally.errored.length + tally.unmatched === 0 &&
    tally.doneTrainings.every((j) => !!tally.trainLines.get(j.id)?.train?.checkpoint);
  // A finished run's checkpoints are verified now; one that is gone means a training to run again after all.
  if (finished && verifyTrainedCheckpoints(store, tally.trainLines, tally.doneTrainings, config, fingerprint) > 0) finished = false;
  let state: StoreState | undefined;
  let jobs: Job[] | undefined;
  if (!finished) {
    state = store.read({ summary: true, train: true });
    const grid = buildJobs(config, splitSize);
    // Lines of another experiment's grid (the whole grid: a store may hold several shards' jobs).
    store.checkJobIds(state.lines, new Set(grid.map((j) => j.id)));
    jobs = jobsOfGrid(grid, where);
  }

  const versions = libraryVersions();
  const meta: RunMeta = {
    splitSize,
    datasetFingerprint: fingerprint,
    dataStamp,
    command,
    shard: opts.shard,
    ...(opts.stage === 'train' ? { stage: opts.stage } : {}),
    versions,
    commit: gitCommit(),
    machine: machineInfo(),
  };
  writeMeta(opts.out, meta);

  if (config.eval.limit !== undefined && config.eval.limit > splitSize) {
    notes.push(`--eval-limit ${config.eval.limit} is more than the ${splitSize} images of the ${config.eval.split} split: evaluating on all ${splitSize}`);
  }
  if (state && jobs) {
    for (const from of opts.reuseCheckpoints) {
      const reused = reuseCheckpoints(jobs, config, fingerprint, from, store, state);
      for (const id of reused) store.log(`reused ${id} from ${from}`);
      if (!reused.length) notes.push(`--reuse-checkpoints ${from}: no model there matches this run (model, seed, training settings and data), nothing reused`);
    }
    verifyTrainedCheckpoints(store, state.lines, jobs, config, fingerprint);
  }
  // A finished run builds the grid and the lines only should a caller still want them (the queue submitter does).
  let built = state && jobs ? { state, jobs } : undefined;
  const build = () => (built ??= { state: store.read({ summary: true, train: true }), jobs: jobsOfGrid(buildJobs(config, splitSize), where) });
  return {
    store,
    meta,
    get dataset() {
      return load();
    },
    versions,
    lock,
    notes,
    ...(finished ? { finished: { total: tally.ofKind.train + tally.ofKind.eval } } : {}),
    get state() {
      return build().state;
    },
    get jobs() {
      return build().jobs;
    },
  };
}

/**
 * The checkpoint files' stamps (size, mtime) when they were last verified for
 * this experiment and data: a resume hashes only the checkpoints whose files
 * changed since, so a run with thousands of finished trainings resumes in
 * well under a second, while a checkpoint rewritten or damaged in place (a new
 * mtime) is verified again. In the run directory, not in checkpoints/, which
 * holds checkpoints only.
 */
const VERIFIED_FILE = 'checkpoints-verified.json';
type Stamp = [number, number, number, number];
interface Verified {
  key: string;
  stamps: Record<string, Stamp>;
}

function stampOf(dir: string, name: string): Stamp | undefined {
  const f = checkpointFiles(dir, name);
  const m = statSync(f.manifest, { throwIfNoEntry: false });
  const w = m && statSync(f.weights, { throwIfNoEntry: false });
  return m && w ? [m.size, m.mtimeMs, w.size, w.mtimeMs] : undefined;
}

function readVerified(file: string, key: string): Record<string, Stamp> {
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as Verified;
    return v && v.key === key && v.stamps && typeof v.stamps === 'object' ? v.stamps : {};
  } catch {
    return {};
  }
}

/**
 * Every training the store counts as done whose checkpoint is there must load as
 * this run's model: intact (size, SHA-256), of its seed, run and data. A damaged or
 * foreign one is refused with how to recover; one that is gone is trained again
 * by the scheduler, as before (returns how many are gone). A model taken with
 * --reuse-checkpoints (its line says from where) is relabelled as this run's, so
 * evaluation accepts it. Checkpoints verified before and unchanged since
 * (VERIFIED_FILE) are not read again.
 */
function verifyTrainedCheckpoints(
  store: RunStore,
  lines: ReadonlyMap<string, { status: string; train?: Pick<TrainRecord, 'checkpoint' | 'reusedFrom'> }>,
  jobs: readonly Job[],
  config: ExperimentConfig,
  fingerprint: string,
): number {
  const hash = configHash(config);
  const file = join(store.dir, VERIFIED_FILE);
  const key = `${hash}/${fingerprint}`;
  const known = readVerified(file, key);
  const stamps: Record<string, Stamp> = {};
  let changed = false;
  let gone = 0;
  for (const job of jobs) {
    if (job.kind !== 'train') continue;
    const line = lines.get(job.id);
    if (line?.status !== 'done' || !line.train) continue;
    const name = line.train.checkpoint;
    const before = stampOf(store.checkpointDir, name);
    if (!before && !checkpointExists(store.checkpointDir, name)) {
      gone++;
      continue;
    }
    const old = known[name];
    if (before && old && before.every((x, i) => x === old[i])) {
      stamps[name] = old;
      continue;
    }
    try {
      const { manifest } = loadCheckpoint(store.checkpointDir, name, { spec: netSpec(job.model, config), dataFingerprint: fingerprint, seed: job.seed });
      if (manifest.configHash !== undefined && manifest.configHash !== hash) {
        if (line.train.reusedFrom) {
          writeAtomic(checkpointFiles(store.checkpointDir, name).manifest, JSON.stringify({ ...manifest, configHash: hash, reusedFrom: line.train.reusedFrom }, null, 2) + '\n');
        } else {
          loadCheckpoint(store.checkpointDir, name, { configHash: hash });
        }
      }
    } catch (e) {
      if (!(e instanceof GlanceError)) throw e;
      throw new GlanceError(
        'CHECKPOINT_INVALID',
        `${store.dir}: the finished training ${job.id} cannot be used: ${e.message}`,
        `${e.suggestion ?? 'delete the checkpoint so the run trains it again'}; its stored evaluations are kept`,
      );
    }
    const after = stampOf(store.checkpointDir, name);
    if (after) stamps[name] = after;
    changed = true;
  }
  if (changed || Object.keys(known).length !== Object.keys(stamps).length) writeAtomic(file, JSON.stringify({ key, stamps } satisfies Verified) + '\n');
  return gone;
}
