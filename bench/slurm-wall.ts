/**
 * Wall time of one experiment split over Slurm array shards against the same
 * experiment on this machine's thread pool, one after the other on an otherwise
 * idle machine. Starts its own one-node Slurm (bench/slurm-local.ts; root,
 * slurm-wlm and munge needed) whose node offers every core.
 *
 *   npx tsx bench/slurm-wall.ts [--shards 2,4] [--threads] [--keep DIR] -- [experiment flags]
 *
 * For each shard count: `glance slurm --shards N --cpus-per-task 1 ...` writes the
 * scripts, `submit.sh` submits them, and the time is from the submission to the
 * end of the merge job (training array, evaluation array with aftercorr, merge
 * and report). --threads adds `glance run --config <the same config.json>
 * --workers <cores>` on the thread pool. Each line of output is one run; the
 * merged results of every run are compared with the first one's (timings aside).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { LocalSlurm, slurmSkipReason, until } from './slurm-local.js';
import { projectRoot } from './spawn.js';

const root = projectRoot();
const cli = join(root, 'src/cli/index.ts');
const argv = process.argv.slice(2);
const dash = argv.indexOf('--');
const own = dash >= 0 ? argv.slice(0, dash) : argv;
const flags = dash >= 0 ? argv.slice(dash + 1) : ['--preset', 'paper'];
const opt = (name: string) => {
  const i = own.indexOf(name);
  return i >= 0 ? own[i + 1] : undefined;
};
const shardCounts = (opt('--shards') ?? '2,4').split(',').map(Number);
const threads = own.includes('--threads');
const keep = opt('--keep');

const TIMING = new Set(['seconds', 'at', 'createdAt', 'samplesPerSec', 'attempt']);
function untimed(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(untimed);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([k]) => !TIMING.has(k)).map(([k, x]) => [k, untimed(x)]));
  return v;
}
const outcomes = (dir: string) =>
  JSON.stringify(
    Object.fromEntries(
      readFileSync(join(dir, 'results.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { jobId: string; status: string })
        .filter((l) => l.status === 'done')
        .sort((a, b) => (a.jobId < b.jobId ? -1 : 1))
        .map((l) => [l.jobId, untimed(l)]),
    ),
  );

async function main() {
  const why = slurmSkipReason();
  if (why) throw new Error(`cannot start a local Slurm: ${why}`);
  const slurm = new LocalSlurm();
  await slurm.start('/tmp/glance-slurm-wall-');
  const base = keep ? resolve(keep) : slurm.dir;
  mkdirSync(base, { recursive: true });
  const env = { ...process.env, ...slurm.env };
  const glance = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', cli, ...args], { cwd: root, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const rows: string[] = [];
  let reference: string | undefined;
  const compare = (dir: string) => {
    const o = outcomes(dir);
    reference ??= o;
    return o === reference ? 'same results' : 'RESULTS DIFFER from the first run';
  };
  try {
    for (const n of shardCounts) {
      const dir = join(base, `shards${n}`);
      const g = glance(['slurm', ...flags, '--shards', String(n), '--cpus-per-task', '1', '--out', dir]);
      if (g.status !== 0) throw new Error(`glance slurm failed: ${g.stderr}`);
      const t0 = Date.now();
      const sub = slurm.sh(join(dir, 'submit.sh'), [], 60);
      if (sub.status !== 0) throw new Error(`submit.sh failed: ${sub.err}`);
      const merge = /merge and report:\s+(\d+)/.exec(sub.out)?.[1];
      if (!merge) throw new Error(`no merge job id in: ${sub.out}`);
      const end = await until(`the merge job of ${n} shards`, 6 * 3600, () => slurm.finished(merge));
      const minutes = (Date.now() - t0) / 60_000;
      const line = `slurm ${n} shards (--cpus-per-task 1, ${availableParallelism()} CPUs on the node): ${minutes.toFixed(1)} min, merge ${end.state} ${end.exit}; ${existsSync(join(dir, 'merged', 'results.jsonl')) ? compare(join(dir, 'merged')) : 'no merged store'}`;
      console.log(line);
      rows.push(line);
    }
    if (threads) {
      const dir = join(base, 'threads');
      const config = join(base, `shards${shardCounts[0]}`, 'config.json');
      const t0 = Date.now();
      const r = glance(['run', '--config', config, '--workers', String(availableParallelism()), '--out', dir, '--reports', join(base, 'reports'), '--quiet']);
      const minutes = (Date.now() - t0) / 60_000;
      const line = `thread pool, --workers ${availableParallelism()}: ${minutes.toFixed(1)} min, exit ${r.status}; ${compare(dir)}`;
      console.log(line);
      rows.push(line);
    }
  } finally {
    await slurm.stop();
  }
}

main().catch((e) => {
  console.error(`slurm-wall: ${(e as Error).message}`);
  process.exit(1);
});
