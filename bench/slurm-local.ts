/**
 * A one-node Slurm on this machine: munged, slurmctld and slurmd started as root,
 * every file under one temp directory, stopped with every process its jobs left.
 * For the engine test (test/engine-slurm.test.ts) and the sharded wall-time bench
 * (bench/slurm-wall.ts); ../shared/ENGINES.md has the settings and why.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import { delimiter, join } from 'node:path';
import { randomBytes } from 'node:crypto';

const DAEMONS = ['munged', 'slurmctld', 'slurmd', 'sbatch', 'scontrol', 'squeue', 'sinfo', 'scancel'];

export function which(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/local/sbin'];
  return dirs.map((d) => join(d, name)).find((p) => existsSync(p));
}

/** Why a local Slurm cannot start here, or undefined when it can. */
export const slurmSkipReason = (): string | undefined =>
  process.getuid?.() !== 0
    ? 'not root (slurmd and munged run as root here)'
    : DAEMONS.filter((d) => !which(d)).length
      ? `missing ${DAEMONS.filter((d) => !which(d)).join(', ')} (apt-get install slurm-wlm munge; .ci/run does)`
      : undefined;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function until<T>(what: string, seconds: number, probe: () => T | undefined | false): Promise<T> {
  const end = Date.now() + seconds * 1000;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${seconds} s waiting for ${what}`);
    await sleep(100);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Alive and not a zombie (a killed daemon stays a zombie until PID 1 reaps it). */
export function alive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

export class LocalSlurm {
  /** Everything of this cluster lives here; job command lines that name it are its processes. */
  dir = '';
  /** The environment for clients and jobs: PATH, HOME, LANG and SLURM_CONF. */
  env: Record<string, string> = {};
  private readonly pidFiles: Record<string, string> = {};

  private pidOf(name: string): number | undefined {
    try {
      return Number(readFileSync(this.pidFiles[name], 'utf8').trim()) || undefined;
    } catch {
      return undefined;
    }
  }

  /** A client command, bounded in time (a stuck daemon must not hang the caller). */
  sh(cmd: string, args: string[], seconds = 20) {
    const r = spawnSync('timeout', [String(seconds), cmd, ...args], { env: this.env, encoding: 'utf8' });
    return { status: r.status, out: r.stdout.trim(), err: r.stderr.trim() };
  }

  /** A finished job's line in the jobcomp file: its state and exit code. */
  finished(jobId: string): { state: string; exit: string } | undefined {
    const file = join(this.dir, 'jobcomp.txt');
    if (!existsSync(file)) return undefined;
    const line = readFileSync(file, 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`JobId=${jobId} `) && !/JobState=REQUEUED/.test(l));
    if (!line) return undefined;
    return { state: /JobState=(\S+)/.exec(line)![1], exit: /ExitCode=(\S+)/.exec(line)?.[1] ?? '?' };
  }

  logs(): string {
    return ['slurmctld.log', 'slurmd.log', 'munged.log']
      .map((f) => join(this.dir, f))
      .filter(existsSync)
      .map((f) => `--- ${f}\n${readFileSync(f, 'utf8').split('\n').slice(-15).join('\n')}`)
      .join('\n');
  }

  async start(prefix = '/this.dir/glance-slurm-'): Promise<void> {
    this.dir = mkdtempSync(prefix);
    // munged refuses a socket directory that is not 755.
    chmodSync(this.dir, 0o755);
    for (const d of ['munge', 'state', 'spool']) mkdirSync(join(this.dir, d), { mode: 0o755 });
    chmodSync(join(this.dir, 'munge'), 0o755);
    const key = join(this.dir, 'munge', 'munge.key');
    writeFileSync(key, randomBytes(1024), { mode: 0o400 });
    const socket = join(this.dir, 'munge', 'munge.socket');
    for (const n of ['munged', 'slurmctld', 'slurmd']) this.pidFiles[n] = join(this.dir, `${n}.pid`);
    const [ctldPort, dPort] = [await freePort(), await freePort()];
    const conf = join(this.dir, 'slurm.conf');
    writeFileSync(
      conf,
      [
        'ClusterName=glance',
        'SlurmctldHost=localhost',
        `SlurmctldPort=${ctldPort}`,
        `SlurmdPort=${dPort}`,
        'SlurmUser=root',
        'SlurmdUser=root',
        `StateSaveLocation=${join(this.dir, 'state')}`,
        `SlurmdSpoolDir=${join(this.dir, 'spool')}`,
        `SlurmctldPidFile=${this.pidFiles.slurmctld}`,
        `SlurmdPidFile=${this.pidFiles.slurmd}`,
        `SlurmctldLogFile=${join(this.dir, 'slurmctld.log')}`,
        `SlurmdLogFile=${join(this.dir, 'slurmd.log')}`,
        'AuthType=auth/munge',
        'CredType=cred/munge',
        // A requeued job waits cred_expire + 1 s before it may start again.
        `AuthInfo=socket=${socket},cred_expire=10`,
        'ProctrackType=proctrack/linuxproc',
        'TaskPlugin=task/none',
        'MpiDefault=none',
        // Tasks share the node by CPU (select/linear would give each task the whole node).
        'SelectType=select/cons_tres',
        'SelectTypeParameters=CR_CPU',
        'SchedulerParameters=batch_sched_delay=0',
        'AccountingStorageType=accounting_storage/none',
        'JobAcctGatherType=jobacct_gather/none',
        // One line per finished job, with its state and exit code (no sacct without accounting).
        'JobCompType=jobcomp/filetxt',
        `JobCompLoc=${join(this.dir, 'jobcomp.txt')}`,
        'KillWait=5',
        'MinJobAge=300',
        'ReturnToService=2',
        'SlurmdParameters=config_overrides',
        `NodeName=localhost NodeAddr=127.0.0.1 CPUs=${availableParallelism()} State=UNKNOWN`,
        'PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP',
        '',
      ].join('\n'),
    );
    // Only what the jobs need: they run with the submitter's environment.
    this.env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? this.dir, LANG: 'C.UTF-8', SLURM_CONF: conf };
    // No pipes to a daemon: it keeps them open, and spawnSync would wait for them.
    const daemon = (cmd: string, args: string[]) => {
      const err = join(this.dir, `${cmd}.start.err`);
      const fd = openSync(err, 'w');
      const r = spawnSync('timeout', ['20', which(cmd)!, ...args], { env: this.env, stdio: ['ignore', fd, fd] });
      closeSync(fd);
      if (r.status !== 0) throw new Error(`${cmd} did not start (${r.status}): ${readFileSync(err, 'utf8')}\n${this.logs()}`);
    };
    daemon('munged', [`--key-file=${key}`, `--socket=${socket}`, `--pid-file=${this.pidFiles.munged}`, `--log-file=${join(this.dir, 'munged.log')}`, `--seed-file=${join(this.dir, 'munge', 'seed')}`]);
    daemon('slurmctld', ['-i']);
    daemon('slurmd', ['-N', 'localhost']);
    await until('the node to be idle', 20, () => this.sh('sinfo', ['-h', '-o', '%t']).out === 'idle');
  }

  /** Stops every daemon and job process; removes the directory unless `keep` (for inspection). */
    async stop(keep = false): Promise<void> {
    if (!this.dir) return;
    const jobs = this.sh('squeue', ['-h', '-o', '%A'], 5).out.split('\n').filter(Boolean);
    if (jobs.length) this.sh('scancel', jobs, 5);
    await until('the queue to empty', 15, () => !this.sh('squeue', ['-h', '-o', '%A'], 5).out).catch(() => undefined);
    this.sh('scontrol', ['shutdown'], 5);
    for (const name of ['slurmctld', 'slurmd']) {
      const pid = this.pidOf(name);
      if (pid && (await until(`${name} to stop`, 10, () => !alive(pid)).catch(() => false)) === false) process.kill(pid, 'SIGKILL');
    }
    const munged = this.pidOf('munged');
    if (munged && alive(munged)) process.kill(munged, 'SIGTERM');
    // Any process a job left behind (the jobs' command lines name this directory).
    for (const p of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
      try {
        if (Number(p) !== process.pid && readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(this.dir)) process.kill(Number(p), 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    if (!keep) rmSync(this.dir, { recursive: true, force: true });
    else console.error(`local slurm: kept ${this.dir} for inspection`);
  }
}
