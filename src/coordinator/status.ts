/**
 * What a run has done, what runs now, what is left and what errored, from its
 * store alone: whether it finished, is running, was interrupted or died (with
 * the command that resumes it), its elapsed time, each running job's epoch and
 * rate, and an ETA from measured throughput (eta.ts). Reads the store without
 * its results (store-lines.ts), so a store of 100,000 lines answers in well
 * under a second.
 */
import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { GlanceError } from '../errors.js';
import type { ExperimentConfig } from '../experiments/config.js';
import { configHash } from '../experiments/config-hash.js';
import type { Job } from '../experiments/grid.js';
import { checkpointName } from '../experiments/models.js';
import { checkpointExists, loadCheckpoint } from '../training/checkpoint.js';
import { etaSeconds, type RunningJob } from './eta.js';
import { duration } from './progress.js';
import { readMeta } from './meta.js';
import { isAlive, readRunning } from './running.js';
import { RunStore } from './store.js';
import { tallyRun } from './tally.js';

export type RunState = 'running' | 'finished' | 'interrupted' | 'died' | 'stopped' | 'not started';

/** The last `bytes` of a file as text (run.log grows with every job). */
function tail(file: string, bytes: number): string {
  if (!existsSync(file)) return '';
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const n = Math.min(size, bytes);
    const buf = Buffer.alloc(n);
    readSync(fd, buf, 0, n, size - n);
    return buf.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** How the last coordinator's run ended, from run.log: its last start ("run:", "queue ...:") or end ("end:") line. */
function lastEnd(logFile: string): 'started' | 'ended' | 'interrupted' | undefined {
  const lines = tail(logFile, 64 << 10).split('\n').reverse();
  for (const l of lines) {
    const m = /^\S+ (run|end|queue submit|queue collect|queue end|queue pause): ?(.*)$/.exec(l);
    if (!m) continue;
    if (m[1] === 'end' || m[1] === 'queue end' || m[1] === 'queue pause') return /interrupted/.test(m[2]) ? 'interrupted' : 'ended';
    return 'started';
  }
  return undefined;
}

/**
 * Finished trainings whose checkpoint is gone (the next resume trains it again) or
 * no longer loads as this run's model: damaged, or another seed's or run's (the
 * next resume refuses it). Cheap: each is one SHA-256 of under a megabyte.
 */
function checkpointTrouble(store: RunStore, done: Job[], config: ExperimentConfig): string[] {
  const hash = configHash(config);
  const out: string[] = [];
  const trainings = done.filter((j) => j.kind === 'train');
  // A real run has tens of trainings; a grid of thousands would hash gigabytes here, where status must answer at once.
  const hashAll = trainings.length <= STATUS_HASH_LIMIT;
  for (const j of trainings) {
    if (j.kind !== 'train') continue;
    const name = checkpointName(j.model, j.seed, j.advUnits);
    if (!checkpointExists(store.checkpointDir, name)) {
      out.push(`  checkpoint of ${j.id} is gone: the next resume trains it again`);
      continue;
    }
    if (!hashAll) continue;
    try {
      loadCheckpoint(store.checkpointDir, name, { seed: j.seed, configHash: hash });
    } catch (e) {
      out.push(`  checkpoint of ${j.id} cannot be used: ${(e as Error).message}`);
    }
  }
  if (!hashAll) out.push(`  checkpoints: ${trainings.length} finished trainings, each checkpoint present; their contents (SHA-256, seed, run) are checked by the next resume, not here (status hashes them up to ${STATUS_HASH_LIMIT})`);
  return out;
}

/** Up to this many finished trainings, status checks each checkpoint whole. */
export const STATUS_HASH_LIMIT = 200;

export function statusText(dir: string): string {
  const store = new RunStore(dir);
  store.requireRun();
  const { config, pack } = store.readStored();
  const meta = readMeta(dir);
  if (!meta) throw new GlanceError('STORE_INVALID', `${dir}: no meta.json`, 'the run never started; run it again');
  const running = readRunning(dir);
  const now = Date.now();
  const runningNow = new Map((running?.jobs ?? []).map((r) => [r.id, r]));
  const runningJobs: RunningJob[] = [];
  const onJob = (j: Job) => {
    const r = runningNow.get(j.id);
    if (r) runningJobs.push({ job: j, fraction: r.progress?.fraction ?? 0, elapsed: (now - Date.parse(r.started)) / 1000 });
  };
  const { ofKind, doneOfKind, seconds, erroredLines, doneTrainings, errored, left: leftJobs, rates, last, ...tally } = tallyRun(store, config, meta, { times: true, rates: true, ...(runningNow.size ? { onJob } : {}) });
  // Elapsed: from the first stored job's start (its end minus its seconds), or this coordinator's start, to now or the last line.
  const first = Math.min(tally.first, running?.since ? Date.parse(running.since) : Infinity);
  const total = ofKind.train + ofKind.eval;
  const doneCount = doneOfKind.train + doneOfKind.eval;
  const out = [`${dir}: ${config.preset}, ${total} jobs: ${doneCount} done, ${errored.length} errored, ${leftJobs.length} left`];
  if (meta.stage === 'train') out.push('  started with --stage train: only its training jobs count here; the same command without it runs the rest');
  if (pack > 1) out.push(`  written by an older glance with --pack ${pack} (seeds trained ${pack} at a time): it reports, it cannot be resumed`);

  const alive = running ? isAlive(running) : undefined;
  const ended = lastEnd(store.logFile);
  const state: RunState =
    running && alive !== false ? 'running'
    : running ? 'died'
    : ended === 'started' ? 'died'
    : ended === 'interrupted' ? 'interrupted'
    : leftJobs.length === 0 && errored.length === 0 ? 'finished'
    : ended === undefined ? (seconds.size + erroredLines.size ? 'stopped' : 'not started')
    : 'stopped';

  const elapsed = ((state === 'running' ? now : last) - first) / 1000;
  const eta = etaSeconds(leftJobs, runningJobs, rates, config, running?.workers ?? 1);

  const resume = meta.command;
  const since = Number.isFinite(elapsed) && elapsed >= 0 ? duration(elapsed) : '?';
  switch (state) {
    case 'running':
      out.push(`  running (pid ${running!.pid}${alive === undefined ? ` on ${running!.host}, not this host: last update ${running!.at}` : ''}) for ${since}; ETA ${duration(eta)} at the measured throughput`);
      for (const r of running!.jobs) {
        const p = r.progress;
        out.push(`    ${r.id}${p ? `: ${p.detail}, ${Math.round(100 * p.fraction)}%${p.samplesPerSec ? `, ${Math.round(p.samplesPerSec)} samples/s` : ''}` : ': starting'}`);
      }
      if (!running!.jobs.length) out.push('    no job running right now');
      break;
    case 'died':
      out.push(`  died: its coordinator${running ? ` (pid ${running.pid})` : ''} is gone without ending the run (killed or crashed) after ${since}; ${leftJobs.length + errored.length} jobs to go, ETA ${duration(eta)}`);
      out.push(`  resume with: ${resume}`);
      break;
    case 'interrupted':
      out.push(`  interrupted after ${since} (Ctrl-C or SIGTERM); ETA ${duration(eta)} for the rest`);
      out.push(`  resume with: ${resume}`);
      break;
    case 'finished':
      out.push(`  finished: every job done, ${since} from the first job's start to the last`);
      break;
    case 'stopped':
      out.push(`  stopped after ${since} with ${errored.length} errored and ${leftJobs.length} left${leftJobs.length ? `; ETA ${duration(eta)} for the rest` : ''}`);
      out.push(`  run again (errored jobs are retried) with: ${resume}`);
      break;
    case 'not started':
      out.push(`  not started: no job stored yet; start it with: ${resume}`);
      break;
  }
  out.push(...checkpointTrouble(store, doneTrainings, config));
  for (const j of errored) {
    out.push(`  errored ${j.id}: ${(erroredLines.get(j.id)!.error ?? '').split('\n')[0]}`);
  }
  for (const kind of ['train', 'eval'] as const) out.push(`  ${kind}: ${doneOfKind[kind]}/${ofKind[kind]} done`);
  return out.join('\n');
}
