/**
 * Turns run events into what people expect: in a terminal, a redrawn block with
 * an overall bar and one bar per running job (detail, samples/s, ETA); in a pipe
 * or CI, one plain line per start/finish; --json one JSON event per line;
 * --quiet only the summary. This is the only part of the coordinator that writes
 * to the terminal, and it is handed the stream to write to.
 */
import type { JobProgress } from '../experiments/types.js';
import type { RunEvent, RunSummary } from './scheduler.js';

export type ProgressMode = 'tty' | 'plain' | 'json' | 'quiet';

const bar = (fraction: number, width = 20) => {
  const f = Math.max(0, Math.min(1, fraction));
  const full = Math.round(f * width);
  return '[' + '#'.repeat(full) + '-'.repeat(width - full) + ']';
};

const duration = (s: number) =>
  !Number.isFinite(s) ? '?' : s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : s >= 60 ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${s.toFixed(0)}s`;

export function summaryText(s: RunSummary): string {
  const lines = [
    `${s.interrupted ? 'interrupted' : 'finished'}: ${s.done}/${s.total} jobs done (${s.ranNow} run now, ${s.skipped} already stored) in ${duration(s.seconds)}`,
  ];
  if (s.errored.length) lines.push(`errored (${s.errored.length}):`, ...s.errored.map((id) => `  ${id}`));
  if (s.blocked.length) lines.push(`blocked by an errored dependency (${s.blocked.length}):`, ...s.blocked.map((id) => `  ${id}`));
  return lines.join('\n');
}

export class ProgressView {
  private total = 0;
  private done = 0;
  private readonly active = new Map<string, { started: number; progress?: JobProgress }>();
  private drawn = 0;
  private lastDraw = 0;

  constructor(
    private readonly mode: ProgressMode,
    private readonly out: NodeJS.WritableStream = process.stderr,
  ) {}

  handle(e: RunEvent): void {
    if (this.mode === 'json') {
      this.out.write(JSON.stringify(jsonEvent(e)) + '\n');
      return;
    }
    switch (e.type) {
      case 'start':
        this.total = e.total;
        this.done = e.done;
        this.line(`${e.total} jobs: ${e.done} already stored, ${e.toRun} to run`);
        break;
      case 'job-start':
        this.active.set(e.job.id, { started: performance.now() });
        if (this.mode === 'plain') this.line(`start ${e.job.id}${e.attempt > 1 ? ` (attempt ${e.attempt})` : ''}`);
        break;
      case 'job-progress': {
        const a = this.active.get(e.job.id);
        if (a) a.progress = e.progress;
        break;
      }
      case 'job-done':
        this.active.delete(e.job.id);
        this.done++;
        this.line(`done  ${e.job.id} (${duration(e.seconds)})${doneDetail(e)}`);
        break;
      case 'job-error':
        this.active.delete(e.job.id);
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

  private draw(): void {
    const now = performance.now();
    if (now - this.lastDraw < 200 && this.drawn > 0) return;
    this.lastDraw = now;
    this.clear();
    const rows = [`${bar(this.total ? this.done / this.total : 1)} ${this.done}/${this.total} jobs`];
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

function jsonEvent(e: RunEvent): unknown {
  if ('job' in e) {
    const { job, ...rest } = e;
    return { ...rest, jobId: job.id };
  }
  return e;
}
