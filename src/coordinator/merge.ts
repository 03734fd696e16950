/**
 * Joins run stores of the same experiment (for example the --shard i/n slices of
 * a cluster's array jobs) into one store: a job done in any of them is done in
 * the merge, checkpoints are copied, and meta.json keeps the provenance of every
 * slice (the machines and commits they ran on, when they differ).
 */
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { copyAtomic } from '../data/durable.js';
import { GlanceError } from '../errors.js';
import { readMeta, writeMeta, type Machine, type RunMeta } from './meta.js';
import { RunStore, configDiff, type JobLine, type StoredConfig } from './store.js';

/** A store's config with its seeds-per-training-job, which a merge must agree on too. */
const comparable = (s: StoredConfig) => (s.pack > 1 ? { ...s.config, pack: s.pack } : s.config);

const distinct = <T>(xs: T[]): T[] => [...new Map(xs.map((x) => [JSON.stringify(x), x])).values()];

/** The provenance of a merged run: the first store's, with every store's machine and commit. */
function mergedMeta(metas: RunMeta[]): RunMeta {
  const machines = distinct(metas.flatMap((m) => m.machines ?? (m.machine ? [m.machine] : [])));
  const commits = distinct(metas.map((m) => m.commit).filter((c): c is string => c !== undefined));
  const { machine: _, machines: __, shard: ___, ...first } = metas[0];
  const meta: RunMeta = { ...first, command: first.command.replace(/ --shard \S+/, '') };
  if (machines.length === 1) meta.machine = machines[0];
  else if (machines.length > 1) meta.machines = machines as Machine[];
  if (commits.length) meta.commit = commits.join(', ');
  return meta;
}

export function mergeStores(dirs: string[], out: string): { jobs: number } {
  const stores = dirs.map((d) => new RunStore(d));
  for (const s of stores) s.requireRun();
  const first = stores[0].readStored();
  for (const s of stores.slice(1)) {
    const diff = configDiff(comparable(first), comparable(s.readStored()));
    if (diff.length) throw new GlanceError('STORE_CONFLICT', `${s.dir} is a different experiment from ${stores[0].dir}: ${diff.slice(0, 3).join('; ')}`, 'merge only stores of the same config');
  }
  const target = new RunStore(out);
  if (target.exists() && configDiff(comparable(target.readStored()), comparable(first)).length) {
    throw new GlanceError('STORE_CONFLICT', `${out} already holds a different experiment`, 'choose another --out');
  }
  mkdirSync(target.checkpointDir, { recursive: true });
  const merged = new Map<string, JobLine>(target.exists() ? target.read().lines : []);
  for (const s of stores) {
    for (const [id, line] of s.read().lines) {
      if (merged.get(id)?.status !== 'done') merged.set(id, line);
    }
    if (existsSync(s.checkpointDir)) {
      // Weights before manifests: a manifest's presence means its weights are complete.
      const files = readdirSync(s.checkpointDir).filter((f) => !f.endsWith('.tmp')).sort((a, b) => Number(a.endsWith('.json')) - Number(b.endsWith('.json')));
      for (const f of files) {
        if (!existsSync(join(target.checkpointDir, f))) copyAtomic(join(s.checkpointDir, f), join(target.checkpointDir, f));
      }
    }
  }
  // Results first, config last: a directory with a config.json is a run, and its results are complete by then.
  target.writeLines(merged.values());
  const metas = dirs.map(readMeta).filter((m): m is RunMeta => m !== undefined);
  if (metas.length) writeMeta(out, mergedMeta(metas));
  // Stores of packed training stay in their own format: status and report read it, a resume refuses it.
  target.writeConfig(first.config, first.pack);
  target.log(`merged ${dirs.join(', ')}: ${merged.size} job lines`);
  return { jobs: merged.size };
}
