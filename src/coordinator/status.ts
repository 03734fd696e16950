/** What a run has done, what runs now (started, not finished), what is left and what errored, from its store alone. */
import { readFileSync } from 'node:fs';
import { GlanceError } from '../errors.js';
import { jobsOfRun, readMeta } from './meta.js';
import { RunStore, runningFile } from './store.js';

/** The running jobs of a run in progress: running.json, if its coordinator process is alive. */
function readRunning(dir: string): { pid: number; jobs: string[] } | undefined {
  try {
    const r = JSON.parse(readFileSync(runningFile(dir), 'utf8')) as { pid: number; jobs: string[] };
    process.kill(r.pid, 0);
    return r;
  } catch {
    // No file, a torn one, or a coordinator that is gone: nothing runs.
    return undefined;
  }
}

export function statusText(dir: string): string {
  const store = new RunStore(dir);
  store.requireRun();
  const { config, pack } = store.readStored();
  const meta = readMeta(dir);
  if (!meta) throw new GlanceError('STORE_INVALID', `${dir}: no meta.json`, 'the run never started; run it again');
  const jobs = jobsOfRun(config, meta);
  const { lines } = store.read();
  const done = jobs.filter((j) => lines.get(j.id)?.status === 'done');
  const errored = jobs.filter((j) => lines.get(j.id)?.status === 'errored');
  const left = jobs.length - done.length - errored.length;
  const out = [`${dir}: ${config.preset}, ${jobs.length} jobs: ${done.length} done, ${errored.length} errored, ${left} left`];
  if (meta.stage === 'train') out.push('  started with --stage train: only its training jobs count here; the same command without it runs the rest');
  if (pack > 1) out.push(`  written by an older glance with --pack ${pack} (seeds trained ${pack} at a time): it reports, it cannot be resumed`);
  const active = readRunning(dir);
  if (active) out.push(`  in progress (pid ${active.pid}), running: ${active.jobs.join(', ') || 'nothing yet'}`);
  for (const j of errored) {
    const l = lines.get(j.id)!;
    out.push(`  errored ${j.id}: ${l.status === 'errored' ? l.error.split('\n')[0] : ''}`);
  }
  for (const kind of ['train', 'eval'] as const) {
    const all = jobs.filter((j) => j.kind === kind);
    out.push(`  ${kind}: ${all.filter((j) => lines.get(j.id)?.status === 'done').length}/${all.length} done`);
  }
  return out.join('\n');
}
