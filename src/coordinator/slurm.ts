/**
 * `glance slurm`: batch scripts that run an experiment's grid as Slurm job arrays.
 *
 *   DIR/config.json      the experiment, validated once, which every task reads
 *   DIR/train.sbatch     array 1-N: task i trains the models of shard i/N into DIR/shards/i
 *   DIR/eval.sbatch      array 1-N: task i runs the rest of shard i (its evaluations)
 *   DIR/merge.sbatch     merges DIR/shards/1..N into DIR/merged, report in DIR/reports/merged
 *   DIR/submit.sh        sbatch-es the three in order, printing the job ids; `submit.sh 2`
 *                        reruns shard 2 only (and merges again)
 *
 * Slurm reruns a requeued task from the beginning and may run one twice; glance
 * makes that harmless: each shard has its own store, which a rerun resumes (jobs
 * keyed by id, temp-then-rename writes). The evaluation array waits on the
 * training array task by task (aftercorr); a training task that fails would leave
 * its evaluation task pending forever, so it is submitted with
 * --kill-on-invalid-dep=yes, and the merge runs after the evaluation array
 * whatever became of it (afterany) and says which shards to rerun.
 */
import { chmodSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readJson, writeAtomic } from '../data/durable.js';
import { GlanceError } from '../errors.js';
import type { ExperimentConfig } from '../experiments/config.js';
import { readMeta } from './meta.js';
import { configDiff, writeJson } from './store.js';

export interface SlurmResources {
  partition?: string;
  time?: string;
  mem?: string;
  cpusPerTask: number;
}

export interface SlurmPlan {
  /** Absolute directory of the scripts, the shard stores, the logs and the merged run. */
  dir: string;
  shards: number;
  /** The command that runs glance, as absolute argv: node, its flags, the entry script. */
  glance: string[];
  resources: SlurmResources;
  /** When the scripts are written, for their header. */
  at: string;
}

/** A word for bash: single-quoted unless it is plainly safe. */
export const shellQuote = (s: string) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** What --partition, --time and --mem may hold: they become #SBATCH lines, so no spaces, quotes or newlines. */
const SBATCH_VALUE = /^[A-Za-z0-9_.:,+=@%/-]+$/;

export function checkResources(r: SlurmResources): void {
  for (const [option, value] of [['--partition', r.partition], ['--time', r.time], ['--mem', r.mem]] as const) {
    if (value !== undefined && !SBATCH_VALUE.test(value)) {
      throw new GlanceError('BAD_OPTION', `${option}: ${JSON.stringify(value)} is not a Slurm value`, `give what sbatch ${option} takes, e.g. ${option === '--time' ? '2:00:00' : option === '--mem' ? '4G' : 'cpu'}`);
    }
  }
  if (!Number.isInteger(r.cpusPerTask) || r.cpusPerTask < 1) {
    throw new GlanceError('BAD_OPTION', `--cpus-per-task: expected a positive integer, got ${JSON.stringify(r.cpusPerTask)}`, 'each task runs that many worker threads');
  }
}

function directives(plan: SlurmPlan, name: string, log: string, extra: string[] = []): string {
  const r = plan.resources;
  return [
    `#SBATCH --job-name=${name}`,
    ...extra,
    `#SBATCH --cpus-per-task=${r.cpusPerTask}`,
    ...(r.partition ? [`#SBATCH --partition=${r.partition}`] : []),
    ...(r.time ? [`#SBATCH --time=${r.time}`] : []),
    ...(r.mem ? [`#SBATCH --mem=${r.mem}`] : []),
    // Absolute, and appended to: a requeued or rerun task keeps the log of its earlier tries.
    `#SBATCH --output=${shellQuote(join(plan.dir, 'logs', log))}`,
    '#SBATCH --open-mode=append',
  ].join('\n');
}

/** One array task: shard $SLURM_ARRAY_TASK_ID of N, into its own store. */
function shardScript(plan: SlurmPlan, stage: 'train' | 'all'): string {
  const n = plan.shards;
  const q = shellQuote;
  const name = stage === 'train' ? 'train' : 'eval';
  const run = [
    ...plan.glance.map(q),
    'run',
    '--config',
    q(join(plan.dir, 'config.json')),
    '--shard auto',
    `--shards ${n}`,
    ...(stage === 'train' ? ['--stage train'] : []),
    '--workers "${SLURM_CPUS_PER_TASK:-1}"',
    `--out ${q(join(plan.dir, 'shards'))}/"$SLURM_ARRAY_TASK_ID"`,
    `--reports ${q(join(plan.dir, 'reports', 'shards'))}`,
  ].join(' ');
  const what =
    stage === 'train'
      ? `The training array of a glance grid in ${n} shards: task i trains the models of\n# shard i/${n} into its own store, shards/i.`
      : `The evaluation array: task i runs the rest of shard i/${n} (its evaluations) in\n# shards/i, after training task i succeeded (submit.sh: --dependency=aftercorr).`;
  return `#!/bin/bash
${directives(plan, `glance-${name}`, `${name}-%a.log`, [`#SBATCH --array=1-${n}`, ...(stage === 'all' ? ['#SBATCH --kill-on-invalid-dep=yes'] : [])])}
# ${what}
# A requeued or rerun task resumes from that store. Written by \`glance slurm\`
# (${plan.at}); submit with submit.sh.
set -eu
: "\${SLURM_ARRAY_TASK_ID:?submit this script as an array, sbatch --array=1-${n} (submit.sh does)}"
echo "== $(date -u +%FT%TZ) ${name} shard $SLURM_ARRAY_TASK_ID/${n}, job \${SLURM_ARRAY_JOB_ID:-?}_$SLURM_ARRAY_TASK_ID, restart \${SLURM_RESTART_COUNT:-0}, on $(hostname)"
exec ${run}
`;
}

function mergeScript(plan: SlurmPlan): string {
  const q = shellQuote;
  const n = plan.shards;
  const merge = [...plan.glance.map(q), 'merge', `${q(join(plan.dir, 'shards'))}/{1..${n}}`, '--out', q(join(plan.dir, 'merged')), '--reports', q(join(plan.dir, 'reports'))].join(' ');
  return `#!/bin/bash
${directives(plan, 'glance-merge', 'merge.log')}
# Merges the ${n} shard stores into merged/ and writes its report to
# reports/merged/, after the evaluation array ended however it ended
# (submit.sh: --dependency=afterany). Written by \`glance slurm\` (${plan.at}).
set -u
echo "== $(date -u +%FT%TZ) merge, job \${SLURM_JOB_ID:-?}, on $(hostname)"
if ! ${merge}; then
  echo "glance slurm: not merged; rerun the shards named above with ${q(join(plan.dir, 'submit.sh'))} SHARDS (e.g. 2 or 1,3), which resumes them and merges again" >&2
  exit 1
fi
`;
}

function submitScript(plan: SlurmPlan): string {
  const q = shellQuote;
  const here = q(plan.dir);
  return `#!/bin/bash
# Submits the training array, the evaluation array (task i after training task i
# succeeded) and the merge, in that order, and prints their job ids.
#   ./submit.sh          all ${plan.shards} shards
#   ./submit.sh 2        rerun shard 2 only (or 1,3 or 2-4: sbatch --array syntax),
#                        resuming its store, then merge all shards again
# Written by \`glance slurm\` (${plan.at}).
set -euo pipefail
dir=${here}
shards="\${1:-1-${plan.shards}}"
id() { echo "\${1%%;*}"; }  # sbatch --parsable prints id[;cluster]
train=$(id "$(sbatch --parsable --array="$shards" "$dir/train.sbatch")")
evaluation=$(id "$(sbatch --parsable --array="$shards" --dependency="aftercorr:$train" --kill-on-invalid-dep=yes "$dir/eval.sbatch")")
merge=$(id "$(sbatch --parsable --dependency="afterany:$evaluation" "$dir/merge.sbatch")")
echo "$(date -u +%FT%TZ) shards $shards: train $train eval $evaluation merge $merge" >> "$dir/submitted.log"
echo "training array:   $train"
echo "evaluation array: $evaluation"
echo "merge and report: $merge"
echo "watch: squeue -j $train,$evaluation,$merge; logs in $dir/logs/"
`;
}

/** The files `glance slurm` writes, by name in DIR, with their mode. */
export function slurmScripts(plan: SlurmPlan): Array<{ name: string; text: string; mode: number }> {
  return [
    { name: 'train.sbatch', text: shardScript(plan, 'train'), mode: 0o755 },
    { name: 'eval.sbatch', text: shardScript(plan, 'all'), mode: 0o755 },
    { name: 'merge.sbatch', text: mergeScript(plan), mode: 0o755 },
    { name: 'submit.sh', text: submitScript(plan), mode: 0o755 },
  ];
}

/**
 * Writes the scripts and config.json into plan.dir. Writing them again over the
 * same experiment and shard count is fine (new resources, a moved checkout); over
 * another, refused, since the shard stores already there would be resumed by it.
 */
export function writeSlurmScripts(plan: SlurmPlan, config: ExperimentConfig): string[] {
  checkResources(plan.resources);
  const configFile = join(plan.dir, 'config.json');
  if (existsSync(configFile)) {
    const diff = configDiff(readJson<unknown>(configFile, 'the experiment of these scripts'), config);
    if (diff.length) {
      throw new GlanceError('STORE_CONFLICT', `${plan.dir} holds scripts of a different experiment (${diff.slice(0, 3).join('; ')})`, 'choose another --out');
    }
  }
  const shardsDir = join(plan.dir, 'shards');
  if (existsSync(shardsDir)) {
    for (const d of readdirSync(shardsDir)) {
      const count = readMeta(join(shardsDir, d))?.shard?.count;
      if (count !== undefined && count !== plan.shards) {
        throw new GlanceError(
          'STORE_CONFLICT',
          `${plan.dir} already holds shards of a ${count}-way split (shards/${d}); --shards ${plan.shards} would resume them as other slices`,
          `keep --shards ${count}, or choose another --out`,
        );
      }
    }
  }
  for (const sub of ['logs', 'shards', 'reports']) mkdirSync(join(plan.dir, sub), { recursive: true });
  writeJson(configFile, config);
  const written = [configFile];
  for (const f of slurmScripts(plan)) {
    const file = join(plan.dir, f.name);
    writeAtomic(file, f.text);
    chmodSync(file, f.mode);
    written.push(file);
  }
  return written;
}
