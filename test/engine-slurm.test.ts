/**
 * `glance slurm` on a real one-node Slurm (slurmctld, slurmd and munged started
 * here, every file under one temp directory; ../shared/ENGINES.md has the settings
 * and why): the scripts it writes for a tiny grid of real MNIST are submitted as
 * they are, and the merged run must equal a single-machine run of the same grid
 * (results aside from timings, weights byte for byte). Then a shard is
 * requeued mid-training and another's process SIGKILLed; rerunning the failed
 * shard with submit.sh finishes the grid with no job stored twice. Every daemon
 * started here is stopped in afterAll, also when a test fails.
 *
 * .ci/run installs slurm-wlm and munge; this file installs nothing and skips,
 * saying why, only when not root or a binary is missing.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExperimentConfig } from '../src/experiments/config.js';
import { buildJobs } from '../src/experiments/grid.js';
import { alive, LocalSlurm, slurmSkipReason, until } from '../bench/slurm-local.js';
import { untimed as untimedBase } from './fixtures/untimed.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'src/cli/index.ts');

/** The tiny grid: NormalNet and GlanceAgain, 2 seeds, 1 epoch on 500 images, 200 test images. */
const GRID = ['--preset', 'smoke', '--models', 'NormalNet,GlanceAgain', '--seeds', '2', '--train-limit', '500', '--epochs', '1', '--eval-limit', '200', '--eval-shards', '2', '--eps', '0.3', '--eot-samples', '2', '--backend', 'wasm'];
const skipReason = slurmSkipReason();
const slurm = new LocalSlurm();
let ok = false;

/** The glance of this checkout, as the tests run it. */
function glance(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', cli, ...args], { cwd: root, env: { ...process.env, ...slurm.env }, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function glanceAsync(args: string[]): { child: ChildProcess; done: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', cli, ...args], { cwd: root, env: { ...process.env, ...slurm.env }, stdio: 'ignore' });
  return { child, done: new Promise((r) => child.once('exit', (code) => r(code))) };
}

function submit(dir: string, shards?: string): { train: string; evaluation: string; merge: string } {
  const r = slurm.sh(join(dir, 'submit.sh'), shards ? [shards] : []);
  expect(r.status, r.err).toBe(0);
  const id = (label: string) => new RegExp(`${label}:\\s+(\\d+)`).exec(r.out)?.[1];
  const ids = { train: id('training array'), evaluation: id('evaluation array'), merge: id('merge and report') };
  expect(ids.train && ids.evaluation && ids.merge, r.out).toBeTruthy();
  return ids as { train: string; evaluation: string; merge: string };
}

interface Line {
  jobId: string;
  status: string;
}
const lines = (dir: string): Array<Line & Record<string, unknown>> =>
  existsSync(join(dir, 'results.jsonl'))
    ? readFileSync(join(dir, 'results.jsonl'), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l))
    : [];

/** A stored value without its timings, nor the attempt (a requeued shard ran its job again). */
const untimed = (v: unknown) => untimedBase(v, ['attempt']);
const outcomes = (dir: string) => Object.fromEntries(lines(dir).filter((l) => l.status === 'done').map((l) => [l.jobId, untimed(l)]));

/** Weights byte for byte; manifests (which record when and how fast a model trained) without their timings. */
function checkpoints(dir: string): Record<string, unknown> {
  const d = join(dir, 'checkpoints');
  return Object.fromEntries(
    readdirSync(d)
      .filter((f) => !f.endsWith('.tmp'))
      .sort()
      .map((f) => [f, f.endsWith('.json') ? untimed(JSON.parse(readFileSync(join(d, f), 'utf8'))) : readFileSync(join(d, f)).toString('base64')]),
  );
}

/** Each done job once per store. */
function storedOnce(dir: string): void {
  const done = lines(dir).filter((l) => l.status === 'done').map((l) => l.jobId);
  expect(done.filter((id, i) => done.indexOf(id) !== i), `${dir}: jobs stored twice`).toEqual([]);
}

describe.skipIf(!!skipReason)(`glance slurm on a real one-node Slurm${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let single: { done: Promise<number | null> };
  const singleDir = () => join(slurm.dir, 'single');

  beforeAll(async () => {
    const t0 = performance.now();
    await slurm.start('/tmp/glance-slurm-engine-');
    console.log(`engine-slurm: munged, slurmctld, slurmd up in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }, 60_000);

  afterAll(async () => {
    const t0 = performance.now();
    await slurm.stop(!ok);
    console.log(`engine-slurm: daemons stopped in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }, 60_000);

  it('the scripts run as written, and the merged run equals a single-machine run', async () => {
    const t0 = performance.now();
    const dir = join(slurm.dir, 'grid');
    const g = glance(['slurm', ...GRID, '--shards', '2', '--out', dir, '--time', '0:10:00']);
    expect(g.status, g.stderr).toBe(0);
    // The reference, on this machine's thread pool, from the same config.
    single = glanceAsync(['run', '--config', join(dir, 'config.json'), '--workers', '2', '--out', singleDir(), '--reports', join(slurm.dir, 'reports'), '--quiet']);
    const ids = submit(dir);
    const merge = await until('the merge job', 150, () => slurm.finished(ids.merge));
    const mergeLog = readFileSync(join(dir, 'logs', 'merge.log'), 'utf8');
    expect(merge, mergeLog).toEqual({ state: 'COMPLETED', exit: '0:0' });
    const slurmSeconds = (performance.now() - t0) / 1000;
    expect(await single.done).toBe(0);

    expect(outcomes(join(dir, 'merged'))).toEqual(outcomes(singleDir()));
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as ExperimentConfig;
    expect(Object.keys(outcomes(singleDir())).length).toBe(buildJobs(config, 10000).length);
    expect(checkpoints(join(dir, 'merged'))).toEqual(checkpoints(singleDir()));
    expect(mergeLog).toMatch(/merged 2 stores into .*merged \(\d+ jobs\); report: .*report\.md/);
    for (const i of ['1', '2']) storedOnce(join(dir, 'shards', i));
    console.log(`engine-slurm: 2-shard grid through train array, eval array and merge in ${slurmSeconds.toFixed(1)} s`);
  }, 180_000);

  it('a requeued shard and a SIGKILLed one: the rerun finishes with no job stored twice', async () => {
    const t0 = performance.now();
    const dir = join(slurm.dir, 'faults');
    expect(glance(['slurm', ...GRID, '--shards', '2', '--out', dir]).status).toBe(0);
    const ids = submit(dir);
    const running = (shard: string) => {
      try {
        const r = JSON.parse(readFileSync(join(dir, 'shards', shard, 'running.json'), 'utf8')) as { pid: number; jobs: Array<string | { id: string }> };
        return { pid: r.pid, jobs: r.jobs.map((j) => (typeof j === 'string' ? j : j.id)) };
      } catch {
        return undefined;
      }
    };

    // Shard 2: requeued while a training job runs (SIGTERM; it restarts from the beginning under the same id).
    const requeue = (async () => {
      const r = await until('shard 2 to be training', 60, () => {
        const x = running('2');
        return x?.jobs.some((j) => j.startsWith('train/')) ? x : undefined;
      });
      const q = slurm.sh('scontrol', ['requeue', `${ids.train}_2`]);
      expect(q.status, q.err).toBe(0);
      const at = performance.now();
      // A requeued job waits cred_expire + 1 s; release it as soon as it is pending again.
      await until('shard 2 to run again', 60, () => {
        const state = slurm.sh('squeue', ['-h', '-j', `${ids.train}_2`, '-o', '%T']).out;
        if (state === 'PENDING') slurm.sh('scontrol', ['update', `jobid=${ids.train}_2`, 'StartTime=now']);
        return state === 'RUNNING' && alive(r.pid) === false ? true : state === '' ? true : undefined;
      });
      return { jobs: r.jobs, restartedAfter: (performance.now() - at) / 1000 };
    })();

    // Shard 1: its glance process SIGKILLed while it runs a job.
    const kill = (async () => {
      for (;;) {
        const r = await until('shard 1 to run a job', 60, () => {
          const x = running('1');
          return x && x.jobs.length && alive(x.pid) ? x : undefined;
        });
        try {
          process.kill(r.pid, 'SIGKILL');
          return r.jobs;
        } catch {
          // It ended between the look and the kill: wait for the next process of the shard.
        }
      }
    })();

    const [requeued, killed] = await Promise.all([requeue, kill]);
    const first = await until('the first merge job', 150, () => slurm.finished(ids.merge));
    const firstLog = readFileSync(join(dir, 'logs', 'merge.log'), 'utf8');
    // The merge refuses the incomplete grid and names the shard to rerun.
    expect(first.state, firstLog).toBe('FAILED');
    expect(firstLog).toMatch(/the merge is incomplete: .*shard 1\/2/);
    expect(firstLog).toMatch(/submit\.sh SHARDS/);

    const tRerun = performance.now();
    const rerun = submit(dir, '1');
    const second = await until('the merge after the rerun', 150, () => slurm.finished(rerun.merge));
    expect(second, readFileSync(join(dir, 'logs', 'merge.log'), 'utf8')).toEqual({ state: 'COMPLETED', exit: '0:0' });
    const rerunSeconds = (performance.now() - tRerun) / 1000;

    expect(await single.done).toBe(0);
    expect(outcomes(join(dir, 'merged'))).toEqual(outcomes(singleDir()));
    expect(checkpoints(join(dir, 'merged'))).toEqual(checkpoints(singleDir()));
    for (const d of [join(dir, 'shards', '1'), join(dir, 'shards', '2'), join(dir, 'merged')]) storedOnce(d);
    // Shard 2 was stopped mid-run and resumed: its log (appended across the requeue) shows both starts.
    const train2 = readFileSync(join(dir, 'logs', 'train-2.log'), 'utf8');
    expect(train2).toMatch(/train shard 2\/2, job \d+_2, restart 0/);
    expect(train2).toMatch(/train shard 2\/2, job \d+_2, restart 1/);
    expect(readFileSync(join(dir, 'shards', '2', 'run.log'), 'utf8')).toMatch(/interrupted/);
    // Shard 1 ran twice: the killed try and the rerun, which resumed what was stored.
    const log1 = readdirSync(join(dir, 'logs')).filter((f) => f.endsWith('-1.log')).map((f) => readFileSync(join(dir, 'logs', f), 'utf8')).join('');
    expect(log1.match(/shard 1\/2/g)!.length).toBeGreaterThanOrEqual(3);
    ok = true;
    console.log(
      `engine-slurm: requeued shard 2 while it ran ${requeued.jobs.join(', ')} (running again ${requeued.restartedAfter.toFixed(1)} s later); ` +
        `SIGKILLed shard 1 while it ran ${killed.join(', ')}; rerun of shard 1 to a complete merge in ${rerunSeconds.toFixed(1)} s; ` +
        `whole fault test ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
  }, 240_000);
});
