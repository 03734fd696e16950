/**
 * running.json: what a coordinator is doing now, for `glance status` in another
 * process: its pid and host, when the run started, the workers, and each running
 * job with its progress (epoch, samples/s). Rewritten when a job starts or ends
 * and every few seconds while one progresses; removed when the run ends, so a
 * file whose pid is gone means the coordinator died.
 */
import { readFileSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import type { JobProgress } from '../experiments/types.js';
import type { RunEvent } from './scheduler.js';
import { runningFile, writeJson } from './store.js';

export interface RunningJobRecord {
  id: string;
  /** When it started (ISO time). */
  started: string;
  progress?: JobProgress;
}

export interface RunningRecord {
  pid: number;
  host: string;
  /** When this coordinator started the run (ISO time). */
  since: string;
  workers: number;
  jobs: RunningJobRecord[];
  /** When the file was written (ISO time). */
  at: string;
}

const PROGRESS_EVERY_MS = 5000;

export class RunningFile {
  private readonly jobs = new Map<string, RunningJobRecord>();
  private readonly since = new Date().toISOString();
  private last = 0;

  constructor(
    private readonly runDir: string,
    private readonly workers: number,
  ) {}

  handle(e: RunEvent): void {
    if (e.type === 'job-start') this.jobs.set(e.job.id, { id: e.job.id, started: new Date().toISOString() });
    else if (e.type === 'job-done' || e.type === 'job-error') this.jobs.delete(e.job.id);
    else if (e.type === 'job-progress') {
      const j = this.jobs.get(e.job.id);
      if (j) j.progress = e.progress;
      if (performance.now() - this.last < PROGRESS_EVERY_MS) return;
    } else if (e.type !== 'start') return;
    this.write();
  }

  write(): void {
    this.last = performance.now();
    const record: RunningRecord = { pid: process.pid, host: hostname(), since: this.since, workers: this.workers, jobs: [...this.jobs.values()], at: new Date().toISOString() };
    writeJson(runningFile(this.runDir), record);
  }

  remove(): void {
    rmSync(runningFile(this.runDir), { force: true });
  }
}

/** running.json as written, or undefined when there is none (or it is torn). */
export function readRunning(runDir: string): RunningRecord | undefined {
  try {
    const r = JSON.parse(readFileSync(runningFile(runDir), 'utf8')) as Partial<RunningRecord> & { jobs?: Array<string | RunningJobRecord> };
    if (typeof r.pid !== 'number') return undefined;
    // An older glance wrote the running jobs as bare ids.
    const jobs = (r.jobs ?? []).map((j) => (typeof j === 'string' ? { id: j, started: r.at ?? '' } : j));
    return { pid: r.pid, host: r.host ?? hostname(), since: r.since ?? r.at ?? '', workers: r.workers ?? 1, jobs, at: r.at ?? '' };
  } catch {
    return undefined;
  }
}

/** Whether the process that wrote running.json still runs (only knowable on its own host). */
export function isAlive(r: RunningRecord): boolean | undefined {
  if (r.host !== hostname()) return undefined;
  try {
    process.kill(r.pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
