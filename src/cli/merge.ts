/**
 * `glance merge DIR... --out DIR`: joins run stores of the same experiment (for
 * example the --shard i/n slices of a cluster's array jobs) into one store.
 */
import { Command } from 'commander';
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { GlanceError } from '../errors.js';
import { RunStore, atomicWrite, configDiff, writeJson, type JobLine } from '../coordinator/store.js';
import { metaFile, readMeta, writeRunReport, type RunMeta } from '../coordinator/write-report.js';

export function mergeStores(dirs: string[], out: string): { jobs: number } {
  const stores = dirs.map((d) => new RunStore(d));
  for (const s of stores) s.requireRun();
  const config = stores[0].readConfig();
  for (const s of stores.slice(1)) {
    const diff = configDiff(config, s.readConfig());
    if (diff.length) throw new GlanceError('STORE_CONFLICT', `${s.dir} is a different experiment from ${stores[0].dir}: ${diff.slice(0, 3).join('; ')}`, 'merge only stores of the same config');
  }
  const target = new RunStore(out);
  if (target.exists() && configDiff(target.readConfig(), config).length) {
    throw new GlanceError('STORE_CONFLICT', `${out} already holds a different experiment`, 'choose another --out');
  }
  mkdirSync(target.checkpointDir, { recursive: true });
  const merged = new Map<string, JobLine>(target.exists() ? target.read().lines : []);
  for (const s of stores) {
    for (const [id, line] of s.read().lines) {
      if (merged.get(id)?.status !== 'done') merged.set(id, line);
    }
    if (existsSync(s.checkpointDir)) {
      for (const f of readdirSync(s.checkpointDir)) {
        if (!existsSync(join(target.checkpointDir, f))) copyFileSync(join(s.checkpointDir, f), join(target.checkpointDir, f));
      }
    }
  }
  writeJson(target.configFile, config);
  atomicWrite(target.resultsFile, [...merged.values()].map((l) => JSON.stringify(l) + '\n').join(''));
  const metas = dirs.map(readMeta).filter((m): m is RunMeta => m !== undefined);
  if (metas.length) writeJson(metaFile(out), { ...metas[0], shard: undefined, command: `${metas[0].command.replace(/ --shard \S+/, '')}` });
  target.log(`merged ${dirs.join(', ')}: ${merged.size} job lines`);
  return { jobs: merged.size };
}

export function mergeCommand(): Command {
  return new Command('merge')
    .description('join run stores of the same experiment (e.g. --shard slices) into one, then write its report')
    .argument('<dirs...>', 'run directories')
    .requiredOption('--out <dir>', 'the merged run directory')
    .action(async (dirs: string[], opts: { out: string }) => {
      const { jobs } = mergeStores(dirs, opts.out);
      const report = await writeRunReport(opts.out);
      console.log(`merged ${dirs.length} stores into ${opts.out} (${jobs} jobs); report${report.partial ? ' (partial)' : ''}: ${report.dir}/report.md`);
    });
}
