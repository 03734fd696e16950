/**
 * How long a job of a SIGKILLed `glance worker` waits before another worker runs
 * it again, for a few --lock-seconds values: BullMQ's stall checker gives the job
 * back once its lock has expired. Starts its own redis-server on a unix socket.
 *
 *   npx tsx bench/fleet-recovery.ts [LOCK_SECONDS,...] [REPEATS]
 *
 * For each repeat: a tiny grid (two NormalNet trainings of 2,000 images, so a
 * training outlives the kill) is submitted with --no-wait; worker A and worker B
 * start; A is killed as soon as it starts a training; the figure is the time from
 * the kill to B's "start <that job>" line.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from './spawn.js';

const root = projectRoot();
const cli = join(root, 'src/cli/index.ts');
const locks = (process.argv[2] ?? '5,10').split(',').map(Number);
const repeats = Number(process.argv[3] ?? 3);

function glance(args: string[], onLine: (line: string) => void): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', cli, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let buf = '';
  const feed = (chunk: Buffer) => {
    buf += chunk.toString('utf8');
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      onLine(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
    }
  };
  child.stdout!.on('data', feed);
  child.stderr!.on('data', feed);
  return child;
}

const exited = (c: ChildProcess) => new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('exit', () => r())));

async function once(sock: string, dir: string, lock: number, rep: number): Promise<number> {
  const redis = `unix://${sock}`;
  const out = join(dir, `run-${lock}-${rep}`);
  const grid = ['--preset', 'smoke', '--models', 'NormalNet', '--seeds', '1,2', '--epochs', '2', '--train-limit', '2000', '--eval-limit', '100', '--eval-shards', '1', '--eps', '0.3', '--attacks', 'fgsm', '--queue', `recovery-${lock}-${rep}`];
  await exited(glance(['queue', 'submit', '--redis', redis, ...grid, '--out', out, '--no-wait'], () => {}));
  const worker = (onLine: (l: string) => void) => glance(['worker', '--redis', redis, '--queue', `recovery-${lock}-${rep}`, '--workers', '1', '--lock-seconds', String(lock)], onLine);
  let killedAt = 0;
  let killedJob = '';
  let resolveAgain: (t: number) => void = () => {};
  const again = new Promise<number>((r) => (resolveAgain = r));
  const b = worker((l) => {
    const m = l.match(/ start (\S+)/);
    if (m && killedJob && m[1] === killedJob) resolveAgain(Date.now());
  });
  const a = worker((l) => {
    const m = l.match(/ start (\S+\/train\/\S+)/);
    if (m && !killedJob) {
      killedJob = m[1];
      a.kill('SIGKILL');
      killedAt = Date.now();
    }
  });
  const t = await Promise.race([again, new Promise<number>((_, rej) => setTimeout(() => rej(new Error('the killed job did not run again within 120 s')), 120_000))]);
  b.kill('SIGTERM');
  await Promise.all([exited(a), exited(b)]);
  return (t - killedAt) / 1000;
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'glance-recovery-'));
  const sock = join(dir, 'redis.sock');
  const r = spawnSync('redis-server', ['--port', '0', '--unixsocket', sock, '--unixsocketperm', '700', '--save', '', '--appendonly', 'no', '--daemonize', 'yes', '--pidfile', join(dir, 'redis.pid'), '--dir', dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`redis-server did not start: ${r.stderr || r.stdout || r.error?.message} (apt-get install redis-server)`);
  for (let i = 0; i < 100 && spawnSync('redis-cli', ['-s', sock, 'ping'], { encoding: 'utf8' }).stdout.trim() !== 'PONG'; i++) await new Promise((res) => setTimeout(res, 20));
  try {
    console.log('| --lock-seconds | SIGKILL to running again (s), each repeat | median |');
    console.log('|---|---|---|');
    for (const lock of locks) {
      const times: number[] = [];
      for (let rep = 0; rep < repeats; rep++) times.push(await once(sock, dir, lock, rep));
      const sorted = [...times].sort((x, y) => x - y);
      console.log(`| ${lock} | ${times.map((t) => t.toFixed(1)).join(', ')} | ${sorted[Math.floor(sorted.length / 2)].toFixed(1)} |`);
    }
  } finally {
    spawnSync('redis-cli', ['-s', sock, 'shutdown', 'nosave'], { timeout: 5000 });
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(`fleet-recovery: ${(e as Error).message}`);
  process.exit(1);
});
