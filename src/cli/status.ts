/** `glance status DIR`: what is done, running (started, not finished), left and errored. */
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { RunStore, runningFile } from '../coordinator/store.js';
import { jobsOfRun, readMeta } from '../coordinator/write-report.js';
import { GlanceError } from '../errors.js';

/** The running jobs of a run in progress: running.json, if its coordinator process is alive. */
function readRunning(dir: string): { pid: number; jobs: string[] } | undefined {
  try {
    const r = JSON.parse(readFileSync(runningFile(dir), 'utf8')) as { pid: number; jobs: string[] };
    process.kill(r.pid, 0);
    return r;
  } catch {
    return undefined;
  }
}

export function statusText(dir: string): string {
  const store = new RunStore(dir);
  store.requireRun();
  const config = store.readConfig();
  const meta = readMeta(dir);
  if (!meta) throw new GlanceError('STORE_INVALID', `${dir}: no meta.json`, 'the run never started; run it again');
  const jobs = jobsOfRun(config, meta);
  const { lines } = store.read();
  const done = jobs.filter((j) => lines.get(j.id)?.status === 'done');
  const errored = jobs.filter((j) => lines.get(j.id)?.status === 'errored');
  const left = jobs.length - done.length - errored.length;
  const out = [`${dir}: ${config.preset}, ${jobs.length} jobs: ${done.length} done, ${errored.length} errored, ${left} left`];
  const active = readRunning(dir);
  if (active) out.push(`  in progress (pid ${active.pid}), running: ${active.jobs.join(', ') || 'nothing yet'}`);
  for (const j of errored) {
    const l = lines.get(j.id)!;
    out.push(`  errored ${j.id}: ${l.status === 'errored' ? l.error.split('\n')[0] : ''}`);
  }
  const byKind = (k: string) => jobs.filter((j) => j.kind === k);
  for (const k of ['train', 'eval']) {
    const all = byKind(k);
    out.push(`  ${k}: ${all.filter((j) => lines.get(j.id)?.status === 'done').length}/${all.length} done`);
  }
  return out.join('\n');
}

export function statusCommand(): Command {
  return new Command('status')
    .description('show what a run has done, what is left and what errored')
    .argument('<dir>', 'run directory')
    .action((dir: string) => console.log(statusText(dir)));
}
