/**
 * Joins run stores of the same experiment (for example the --shard i/n slices of
 * a cluster's array jobs) into one store: a job done in any of them is done in
 * the merge, checkpoints are copied, and meta.json keeps the provenance of every
 * slice (the machines and commits they ran on, when they differ).
 *
 * Before anything is written it refuses stores of different experiments or data,
 * shards of different splits, and (unless partial) a shard that is absent; after
 * the merge it tells which jobs of the grid, and of which shards, are not done,
 * so the caller can say what to rerun.
 */
import { existsSync, mkdirSync, readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { copyAtomic } from '../data/durable.js';
import { GlanceError } from '../errors.js';
import { buildJobs, shardJobs } from '../experiments/grid.js';
import { acquireRunLock } from './lock.js';
import { readMeta, writeMeta, type Machine, type RunMeta } from './meta.js';
import { RunStore, configDiff, type JobLine, type StoredConfig } from './store.js';

export interface MergeOptions {
  /** Merge what is there: skip directories that hold no run and accept absent shards. */
  partial?: boolean;
}

export interface MergeResult {
  /** Job lines in the merged store. */
  jobs: number;
  /** Directories skipped because they hold no run (partial only). */
  skipped: string[];
  /** The grid's size and its jobs not done in the merge; absent when no store recorded the grid (meta.json). */
  grid?: { total: number; missing: string[] };
  /** When the stores are --shard slices of one split: n, the indices merged, and the slices with jobs not done. */
  shards?: { count: number; merged: number[]; absent: number[]; incomplete: Array<{ index: number; left: number; errored: number }> };
}

/** A store's config with its seeds-per-training-job, which a merge must agree on too. */
const comparable = (s: StoredConfig) => (s.pack > 1 ? { ...s.config, pack: s.pack } : s.config);

const distinct = <T>(xs: T[]): T[] => [...new Map(xs.map((x) => [JSON.stringify(x), x])).values()];

/** The provenance of a merged run: the first store's, with every store's machine and commit. */
function mergedMeta(metas: RunMeta[]): RunMeta {
  const machines = distinct(metas.flatMap((m) => m.machines ?? (m.machine ? [m.machine] : [])));
  const commits = distinct(metas.map((m) => m.commit).filter((c): c is string => c !== undefined));
  const { machine: _, machines: __, shard: ___, stage: ____, ...first } = metas[0];
  // The command of one slice, less what makes it a slice (its shard, stage and store).
  const meta: RunMeta = { ...first, command: first.command.replace(/ --(shard|shards|stage|out) \S+/g, '') };
  if (machines.length === 1) meta.machine = machines[0];
  else if (machines.length > 1) meta.machines = machines as Machine[];
  if (commits.length) meta.commit = commits.join(', ');
  return meta;
}

const shardText = (s: { index: number; count: number }) => `${s.index}/${s.count}`;

export function mergeStores(dirs: string[], out: string, opts: MergeOptions = {}): MergeResult {
  // One writer per run directory: a coordinator or another merge into `out` is refused.
  const existed = existsSync(out);
  const lock = acquireRunLock(out, `glance merge ${dirs.join(' ')} --out ${out}`);
  try {
    return mergeLocked(dirs, out, opts);
  } catch (e) {
    lock.release();
    // A refused merge writes nothing: not even the directory the lock needed.
    if (!existed) {
      try {
        rmdirSync(out);
      } catch {
        // Not empty: something else is in it now; leave it.
      }
    }
    throw e;
  } finally {
    lock.release();
  }
}

function mergeLocked(dirs: string[], out: string, opts: MergeOptions): MergeResult {
  const absent = dirs.filter((d) => !new RunStore(d).exists());
  if (absent.length === dirs.length) {
    throw new GlanceError('STORE_INVALID', `nothing to merge: ${absent.join(', ')} ${absent.length > 1 ? 'hold' : 'holds'} no run (no config.json)`, 'pass the --out directories of runs made by glance');
  }
  if (absent.length && !opts.partial) {
    throw new GlanceError(
      'STORE_INCOMPLETE',
      `${absent.join(', ')} ${absent.length > 1 ? 'hold' : 'holds'} no run (no config.json): a shard that never started, or a wrong path`,
      'run it first (the same command with the same --out), or pass --partial to merge the others; nothing was written',
    );
  }
  const present = dirs.filter((d) => !absent.includes(d));
  const stores = present.map((d) => new RunStore(d));
  const first = stores[0].readStored();
  for (const s of stores.slice(1)) {
    const diff = configDiff(comparable(first), comparable(s.readStored()));
    if (diff.length) throw new GlanceError('STORE_CONFLICT', `${s.dir} is a different experiment from ${stores[0].dir}: ${diff.slice(0, 3).join('; ')}`, 'merge only stores of the same config');
  }
  const metas = present.map((d) => ({ dir: d, meta: readMeta(d) }));
  const known = metas.filter((m): m is { dir: string; meta: RunMeta } => m.meta !== undefined);
  const otherData = known.find((m) => m.meta.datasetFingerprint !== known[0].meta.datasetFingerprint);
  if (otherData) {
    throw new GlanceError(
      'STORE_CONFLICT',
      `${otherData.dir} ran on other data than ${known[0].dir} (dataset fingerprint ${otherData.meta.datasetFingerprint}, not ${known[0].meta.datasetFingerprint})`,
      'merge only runs on the same dataset files (glance data check prints their SHA-256)',
    );
  }
  const shards = shardsOf(metas, opts);

  const target = new RunStore(out);
  if (target.exists() && configDiff(comparable(target.readStored()), comparable(first)).length) {
    throw new GlanceError('STORE_CONFLICT', `${out} already holds a different experiment`, 'choose another --out');
  }
  mkdirSync(target.checkpointDir, { recursive: true });
  // Which store's line stands for each job: the target's, then each store's in turn, a done line
  // never replaced. Found from summaries, then copied in a second pass: a merge of a million lines
  // holds which line won, not the lines.
  const sources = target.exists() ? [target, ...stores] : stores;
  const merged = new Map<string, { source: number; seq: number; status: JobLine['status'] }>();
  sources.forEach((s, source) => {
    // The last line of a job in one store is the one that counts (scan visits them in order).
    const last = new Map<string, { seq: number; status: JobLine['status'] }>();
    let seq = 0;
    s.scan((l) => last.set(l.jobId, { seq: seq++, status: l.status }), { summary: true });
    for (const [id, w] of last) if (merged.get(id)?.status !== 'done') merged.set(id, { source, ...w });
  });
  for (const s of stores) {
    if (existsSync(s.checkpointDir)) {
      // Weights before manifests: a manifest's presence means its weights are complete.
      const files = readdirSync(s.checkpointDir).filter((f) => !f.endsWith('.tmp')).sort((a, b) => Number(a.endsWith('.json')) - Number(b.endsWith('.json')));
      for (const f of files) {
        if (!existsSync(join(target.checkpointDir, f))) copyAtomic(join(s.checkpointDir, f), join(target.checkpointDir, f));
      }
    }
  }
  // Results first, config last: a directory with a config.json is a run, and its results are complete by then.
  target.writeLines((emit) =>
    sources.forEach((s, source) => {
      let seq = 0;
      s.scan((l) => {
        const w = merged.get(l.jobId);
        if (w && w.source === source && w.seq === seq) emit(l);
        seq++;
      });
    }),
  );
  if (known.length) writeMeta(out, mergedMeta(known.map((m) => m.meta)));
  // Stores of packed training stay in their own format: status and report read it, a resume refuses it.
  target.writeConfig(first.config, first.pack);
  target.log(`merged ${present.join(', ')}: ${merged.size} job lines${absent.length ? ` (no run in ${absent.join(', ')})` : ''}`);

  const result: MergeResult = { jobs: merged.size, skipped: absent };
  if (known.length && first.pack === 1) {
    const all = buildJobs(first.config, known[0].meta.splitSize);
    const notDone = (id: string) => merged.get(id)?.status !== 'done';
    result.grid = { total: all.length, missing: all.filter((j) => notDone(j.id)).map((j) => j.id) };
    if (shards) {
      const incomplete = [];
      for (let index = 1; index <= shards.count; index++) {
        const mine = shardJobs(all, { index, count: shards.count });
        const left = mine.filter((j) => notDone(j.id));
        if (left.length) incomplete.push({ index, left: left.length, errored: left.filter((j) => merged.get(j.id)?.status === 'errored').length });
      }
      result.shards = { ...shards, incomplete };
    }
  }
  return result;
}

/**
 * When every store is a --shard slice: the split they share (n) and which of its
 * slices are merged. Refuses slices of different splits, and absent slices unless partial.
 */
function shardsOf(metas: Array<{ dir: string; meta: RunMeta | undefined }>, opts: MergeOptions): { count: number; merged: number[]; absent: number[] } | undefined {
  if (!metas.every((m) => m.meta?.shard)) return undefined;
  const sliced = metas as Array<{ dir: string; meta: RunMeta & { shard: { index: number; count: number } } }>;
  const other = sliced.find((m) => m.meta.shard.count !== sliced[0].meta.shard.count);
  if (other) {
    throw new GlanceError(
      'STORE_CONFLICT',
      `shards of different splits: ${sliced[0].dir} is shard ${shardText(sliced[0].meta.shard)}, ${other.dir} is shard ${shardText(other.meta.shard)}`,
      'merge the shards of one split (the same --shards n); nothing was written',
    );
  }
  const count = sliced[0].meta.shard.count;
  const merged = [...new Set(sliced.map((m) => m.meta.shard.index))].sort((a, b) => a - b);
  const absent = Array.from({ length: count }, (_, i) => i + 1).filter((i) => !merged.includes(i));
  if (absent.length && !opts.partial) {
    throw new GlanceError(
      'STORE_INCOMPLETE',
      `shard${absent.length > 1 ? 's' : ''} ${absent.join(', ')} of ${count} missing: the stores given are shard${merged.length > 1 ? 's' : ''} ${merged.join(', ')} of ${count}`,
      'pass the --out directory of every shard (run the missing ones first: the same command with --shard i/n), or --partial to merge these; nothing was written',
    );
  }
  return { count, merged, absent };
}
