/** `glance slurm --shards N [experiment flags] --out DIR`: writes ready-to-submit Slurm batch scripts for a grid. */
import { Command } from 'commander';
import { realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { shellQuote, writeSlurmScripts } from '../coordinator/slurm.js';
import { errors } from '../errors.js';
import { addConfigOptions, buildConfig, type RawOptions } from './experiment-options.js';

interface SlurmRaw extends RawOptions {
  shards: string;
  out: string;
  partition?: string;
  time?: string;
  mem?: string;
  cpusPerTask: string;
}

/** A module specifier given to node (--import tsx) as an absolute one, so the scripts run from any directory. */
function absoluteSpecifier(flag: string, spec: string): string {
  if (/^(file|data|node):/.test(spec)) return spec;
  if (isAbsolute(spec) || spec.startsWith('.')) return flag === '--require' || flag === '-r' ? resolve(spec) : pathToFileURL(resolve(spec)).href;
  try {
    return flag === '--require' || flag === '-r' ? createRequire(join(process.cwd(), 'x.js')).resolve(spec) : import.meta.resolve(spec);
  } catch {
    return spec;
  }
}

/**
 * How this glance was started, as absolute argv (node, its flags, the entry
 * script), so the batch scripts run this very checkout: `npx glance` gives node
 * and bin/glance.js; a development run under tsx gives node --import <tsx> src/cli/index.ts.
 */
function thisGlance(): string[] {
  const argv = [process.execPath];
  const flags = process.execArgv;
  for (let i = 0; i < flags.length; i++) {
    const m = /^(--import|--loader|--experimental-loader|--require|-r)(?:=(.*))?$/.exec(flags[i]);
    if (!m) {
      argv.push(flags[i]);
      continue;
    }
    const spec = m[2] ?? flags[++i];
    argv.push(m[1], absoluteSpecifier(m[1], spec));
  }
  argv.push(realpathSync(process.argv[1]));
  return argv;
}

function positiveInt(option: string, text: string): number {
  const n = /^\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!Number.isInteger(n) || n < 1) throw errors.badOption(option, text, 'a positive integer');
  return n;
}

export function slurmCommand(): Command {
  const cmd = new Command('slurm').description(
    'write ready-to-submit Slurm batch scripts for the grid into --out (it submits nothing): a training array (--array=1-N), ' +
      'an evaluation array that runs task i after training task i succeeded, a merge-and-report job, and submit.sh, which submits them in order',
  );
  return addConfigOptions(cmd, 'paper')
    .requiredOption('--shards <n>', 'split the grid into n shards, one array task each')
    .requiredOption('--out <dir>', 'where the scripts, the shard stores (shards/i), the logs, the merged run (merged/) and its report go')
    .option('--partition <name>', 'sbatch --partition of every job')
    .option('--time <limit>', 'sbatch --time of every job (e.g. 2:00:00)')
    .option('--mem <size>', 'sbatch --mem of every job (e.g. 4G)')
    .option('--cpus-per-task <n>', 'sbatch --cpus-per-task; each task runs that many worker threads', '1')
    .action((raw: SlurmRaw) => {
      const config = buildConfig(raw);
      if (config.dataDir) config.dataDir = resolve(config.dataDir);
      const shards = positiveInt('--shards', raw.shards);
      const groups = config.models.length * config.seeds.length;
      if (shards > groups) throw errors.badOption('--shards', raw.shards, `at most ${groups}: the grid is split by (model, seed), and it has ${groups}`);
      const dir = resolve(raw.out);
      writeSlurmScripts(
        {
          dir,
          shards,
          glance: thisGlance(),
          resources: { partition: raw.partition, time: raw.time, mem: raw.mem, cpusPerTask: positiveInt('--cpus-per-task', raw.cpusPerTask) },
          at: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
        },
        config,
      );
      const q = shellQuote;
      console.log(
        [
          `wrote ${dir}/: train.sbatch, eval.sbatch, merge.sbatch, submit.sh, config.json (${shards} shards)`,
          `submit:      ${q(join(dir, 'submit.sh'))}`,
          `watch:       squeue --me; glance status ${q(join(dir, 'shards', '1'))}`,
          `rerun one:   ${q(join(dir, 'submit.sh'))} 2   (shard 2: resumes its store, then merges again)`,
          `report:      ${join(dir, 'reports', 'merged', 'report.md')}`,
        ].join('\n'),
      );
    });
}
