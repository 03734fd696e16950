/**
 * Turns run events into what people expect: in a capable terminal, a redrawn
 * block with an overall bar, the whole run's ETA and one bar per running job
 * (detail, samples/s, ETA); in a pipe, CI or a dumb terminal, one plain line per
 * start/finish and a heartbeat line every 30 s while jobs run; --json one
 * versioned JSON event per line on stdout (jsonEvent); --quiet only the summary.
 * This is the only part of the coordinator that writes to the terminal, and it
 * is handed the streams to write to.
 */
import type { ExperimentConfig } from '../experiments/config.js';
import type { Job } from '../experiments/grid.js';
import type { JobProgress } from '../experiments/types.js';
import { etaSeconds, ratesOf, type RunningJob } from './eta.js';
import type { RunEvent, RunSummary } from './scheduler.js';

export type ProgressMode = 'tty' | 'plain' | 'json' | 'quiet';

/** The version of the --json events' shape; a consumer checks it. */
export const JSON_EVENTS_VERSION = 1;

/**
 * The display for the options and the terminal: cursor codes only on a terminal
 * that takes them (not TERM=dumb, not NO_COLOR, which asks for plain output).
 */
export function progressMode(o: { json?: boolean; quiet?: boolean }, stream: { isTTY?: boolean } = process.stderr, env: NodeJS.ProcessEnv = process.env): ProgressMode {
  if (o.json) return 'json';
  if (o.quiet) return 'quiet';
  const capable = !!stream.isTTY && env.TERM !== 'dumb' && env.NO_COLOR === undefined;
  return capable ? 'tty' : 'plain';
}

/** One --json event: the version, the event's type, its time, then its fields. */
export function jsonLine(type: string, fields: Record<string, unknown> = {}): string {
  return JSON.stringify({ v: JSON_EVENTS_VERSION, type, time: new Date().toISOString(), ...fields }) + '\n';
}

/** What the ETA needs: the run's jobs, its config, its workers and the seconds of the jobs already stored. */
export interface EtaInput {
  jobs: readonly Job[];
  config: ExperimentConfig;
  workers: number;
  stored: ReadonlyMap<string, number>;
}

const HEARTBEAT_MS = 30_000;

const bar = (fraction: number, width = 20) => {
  const f = Math.max(0, Math.min(1, fraction));
  const full = Math.round(f * width);
  return '[' + '#'.repeat(full) + '-'.repeat(width - full) + ']';
};

export const duration = (s: number) =>
  !Number.isFinite(s) ? '?' : s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : s >= 60 ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${s.toFixed(0)}s`;

export function summaryText(s: RunSummary): string {
  const lines = [
    `${s.interrupted ? 'interrupted' : 'finished'}: ${s.done}/${s.total} jobs done (${s.ranNow} run now, ${s.skipped} already stored) in ${duration(s.seconds)}`,
  ];
  if (s.errored.length) lines.push(`errored (${s.errored.length}):`, ...s.errored.map((id) => `  ${id}`));
  if (s.blocked.length) lines.push(`blocked by an errored dependency (${s.blocked.length}):`, ...s.blocked.map((id) => `  ${id}`));
  return lines.join('\n');
}

export interface ViewOptions {
  /** Where people's output goes (default stderr). */
  out?: NodeJS.WritableStream;
  /** Where --json events go (default stdout). */
  json?: NodeJS.WritableStream;
  /** The run directory, named in --json events. */
  runDir?: string;
  eta?: EtaInput;
}

export class ProgressView {
  private total = 0;
  private done = 0;
  private readonly active = new Map<string, { job: Job; started: number; progress?: JobProgress }>();
  private readonly seconds = new Map<string, number>();
  private drawn = 0;
  private lastDraw = 0;
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly out: NodeJS.WritableStream;
  private readonly jsonOut: NodeJS.WritableStream;

  constructor(
    private readonly mode: ProgressMode,
    private readonly opts: ViewOptions = {},
  ) {
    this.out = opts.out ?? process.stderr;
    this.jsonOut = opts.json ?? process.stdout;
    for (const [id, s] of opts.eta?.stored ?? []) this.seconds.set(id, s);
  }

  /** Seconds to the end of the run at the measured throughput; NaN before anything is measured. */
  eta(): number {
    const e = this.opts.eta;
    if (!e) return NaN;
    const now = performance.now();
    const running: RunningJob[] = [...this.active.values()].map((a) => ({ job: a.job, fraction: a.progress?.fraction ?? 0, elapsed: (now - a.started) / 1000 }));
    const left = e.jobs.filter((j) => !this.seconds.has(j.id));
    return etaSeconds(left, running, ratesOf(e.jobs, this.seconds, e.config), e.config, e.workers);
  }

  handle(e: RunEvent): void {
    if (e.type === 'job-start') this.active.set(e.job.id, { job: e.job, started: performance.now() });
    if (e.type === 'job-done') this.seconds.set(e.job.id, e.seconds);
    if (e.type === 'job-done' || e.type === 'job-error') this.active.delete(e.job.id);
    if (e.type === 'job-progress') {
      const a = this.active.get(e.job.id);
      if (a) a.progress = e.progress;
    }
    if (e.type === 'start' && this.mode === 'plain') this.heartbeat = setInterval(() => this.beat(), HEARTBEAT_MS).unref();
    if (e.type === 'end' && this.heartbeat) clearInterval(this.heartbeat);
    if (this.mode === 'json') {
      const fields = jsonEvent(e);
      if (e.type === 'start' || e.type === 'end') Object.assign(fields, { runDir: this.opts.runDir, etaSeconds: finite(this.eta()) });
      if (e.type === 'job-done') Object.assign(fields, { etaSeconds: finite(this.eta()) });
      this.jsonOut.write(jsonLine(e.type, fields));
      return;
    }
    switch (e.type) {
      case 'start':
        this.total = e.total;
        this.done = e.done;
        this.line(`${e.total} jobs: ${e.done} already stored, ${e.toRun} to run`);
        break;
      case 'job-start':
        if (this.mode === 'plain') this.line(`start ${e.job.id}${e.attempt > 1 ? ` (attempt ${e.attempt})` : ''}`);
        break;
      case 'job-progress':
        break;
      case 'job-done':
        this.done++;
        this.line(`done  ${e.job.id} (${duration(e.seconds)})${doneDetail(e)}`);
        break;
      case 'job-error':
        this.line(`error ${e.job.id} (attempt ${e.attempt}${e.willRetry ? ', retrying' : ''}): ${e.error.split('\n')[0]}`);
        break;
      case 'job-blocked':
        this.line(`skip  ${e.job.id}: its dependency ${e.by} failed`);
        break;
      case 'end':
        this.clear();
        this.out.write(summaryText(e.summary) + '\n');
        return;
    }
    if (this.mode === 'tty') this.draw();
  }

  /** A one-off remark for people (not in --json or --quiet). */
  note(text: string): void {
    if (this.mode !== 'json') this.line(text);
  }

  /** Said at once, even with --quiet (Ctrl-C: what the run waits for); an event with --json. */
  urgent(text: string, event: string, fields: Record<string, unknown> = {}): void {
    if (this.mode === 'json') this.jsonOut.write(jsonLine(event, { message: text, ...fields }));
    else {
      this.clear();
      this.out.write(text + '\n');
      if (this.mode === 'tty') this.draw(true);
    }
  }

  /** The running jobs in one line, for the heartbeat and the Ctrl-C message. */
  runningText(): string {
    return [...this.active.entries()]
      .map(([id, a]) => `${id}${a.progress ? ` ${a.progress.detail}${a.progress.samplesPerSec ? ` ${Math.round(a.progress.samplesPerSec)}/s` : ''}` : ''}`)
      .join(', ');
  }

  /** A line in a pipe every 30 s while jobs run, so a log shows the run is alive and how far it is. */
  private beat(): void {
    if (!this.active.size) return;
    this.line(`${new Date().toISOString().slice(11, 19)} ${this.done}/${this.total} jobs, ETA ${duration(this.eta())}; running: ${this.runningText()}`);
  }

  private line(text: string): void {
    if (this.mode === 'quiet') return;
    this.clear();
    this.out.write(text + '\n');
  }

  private clear(): void {
    if (this.mode !== 'tty' || this.drawn === 0) return;
    this.out.write(`\x1b[${this.drawn}A\x1b[0J`);
    this.drawn = 0;
  }

  private draw(force = false): void {
    const now = performance.now();
    if (!force && now - this.lastDraw < 200 && this.drawn > 0) return;
    this.lastDraw = now;
    this.clear();
    const rows = [`${bar(this.total ? this.done / this.total : 1)} ${this.done}/${this.total} jobs, ETA ${duration(this.eta())}`];
    for (const [id, a] of this.active) {
      const p = a.progress;
      const elapsed = (now - a.started) / 1000;
      const eta = p && p.fraction > 0 ? (elapsed * (1 - p.fraction)) / p.fraction : NaN;
      rows.push(`  ${bar(p?.fraction ?? 0, 12)} ${id} ${p?.detail ?? ''}${p?.samplesPerSec ? ` ${Math.round(p.samplesPerSec)}/s` : ''} ETA ${duration(eta)}`);
    }
    const width = (this.out as NodeJS.WriteStream).columns ?? 120;
    this.out.write(rows.map((r) => r.slice(0, width - 1)).join('\n') + '\n');
    this.drawn = rows.length;
  }
}

function doneDetail(e: Extract<RunEvent, { type: 'job-done' }>): string {
  const last = e.outcome.train?.history.at(-1);
  if (last) return ` train acc ${last.accuracy.toFixed(1)}%, ${Math.round(last.samplesPerSec)} samples/s`;
  const r = e.outcome.results;
  const units = new Set(r?.map((x) => x.epsUnits));
  if (r?.length) return ' ' + r.map((x) => `eps ${x.eps}${units.size > 1 ? ` ${x.epsUnits}` : ''}: ${((100 * x.correct) / x.total).toFixed(1)}%`).join(', ');
  return '';
}

const finite = (x: number) => (Number.isFinite(x) ? Math.round(x) : null);

/** An event's fields for --json: the job by its id, the type left to jsonLine. */
function jsonEvent(e: RunEvent): Record<string, unknown> {
  const { type: _type, ...rest } = e;
  if ('job' in rest) {
    const { job, ...fields } = rest;
    return { ...fields, jobId: job.id };
  }
  return rest;
}
