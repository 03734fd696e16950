/**
 * Writes a run's report files (report.md, results.csv, sweep.svg) into
 * reports/<run-id>/ from the run store alone, so a report can be regenerated at
 * any time, partial runs included (marked, with what is missing).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildJobs, shardJobs, type Job } from '../experiments/grid.js';
import type { ExperimentConfig } from '../experiments/config.js';
import { packSize, seedChunks } from '../experiments/pack.js';
import type { EvalResult } from '../experiments/types.js';
import { aggregate, renderReport, renderResultsCsv, renderSweepSvg, sweepGroups } from '../report/index.js';
import { RunStore, type JobLine } from './store.js';

export interface RunMeta {
  /** Size of the evaluation split, so the job grid can be rebuilt without the dataset. */
  splitSize: number;
  datasetFingerprint: string;
  /** The command that started the run, for "how to reproduce". */
  command: string;
  shard?: { index: number; count: number };
  versions: Record<string, string>;
  /** The code's git commit when the run was (last) started, for citing what produced the numbers. */
  commit?: string;
}

export const metaFile = (runDir: string) => join(runDir, 'meta.json');

export function readMeta(runDir: string): RunMeta | undefined {
  return existsSync(metaFile(runDir)) ? (JSON.parse(readFileSync(metaFile(runDir), 'utf8')) as RunMeta) : undefined;
}

/** The jobs of a run: its config's grid, cut to its --shard slice. */
export function jobsOfRun(config: ExperimentConfig, meta: Pick<RunMeta, 'splitSize' | 'shard'>): Job[] {
  const jobs = buildJobs(config, meta.splitSize);
  return meta.shard ? shardJobs(jobs, meta.shard) : jobs;
}

/** The commit of the code that runs (asked in its own directory, not the caller's cwd); '-dirty' when it has local changes. */
export function gitCommit(): string {
  try {
    const cwd = dirname(fileURLToPath(import.meta.url));
    return execFileSync('git', ['describe', '--always', '--dirty', '--abbrev=7'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

/** From the start of the first job (its stored time minus its duration) to the last stored job; a resumed run includes its pauses. */
function wallTime(lines: JobLine[]): string {
  const ends = lines.map((l) => Date.parse(l.at)).filter(Number.isFinite);
  const starts = lines.map((l) => Date.parse(l.at) - 1000 * (l.status === 'done' ? l.seconds : 0)).filter(Number.isFinite);
  const seconds = lines.reduce((s, l) => s + (l.status === 'done' ? l.seconds : 0), 0);
  if (!ends.length) return '—';
  const span = (Math.max(...ends) - Math.min(...starts)) / 1000;
  return `${(span / 60).toFixed(1)} min from the first job's start to the last stored job (${(seconds / 60).toFixed(1)} min of job time)`;
}

export async function writeRunReport(runDir: string, reportsRoot = 'reports'): Promise<{ dir: string; partial: boolean }> {
  const store = new RunStore(runDir);
  store.requireRun();
  const config: ExperimentConfig = store.readConfig();
  const meta = readMeta(runDir);
  const { lines } = store.read();
  const done = [...lines.values()].filter((l): l is Extract<JobLine, { status: 'done' }> => l.status === 'done');
  const results: EvalResult[] = done.flatMap((l) => l.results ?? []);
  const jobs = meta ? jobsOfRun(config, meta) : [];
  const missing = jobs.filter((j) => lines.get(j.id)?.status !== 'done').map((j) => j.id);
  const backends = [...new Set(results.map((r) => `${r.backend.name} (tfjs ${r.backend.tfjs}${r.backend.tensorflow ? `, TensorFlow ${r.backend.tensorflow}` : ''})`))];
  const cpu = cpus();
  const t = config.train;
  const protocol: Array<[string, string]> = [
    ['dataset', `${config.dataset}${meta ? ` (fingerprint ${meta.datasetFingerprint})` : ''}`],
    ['evaluation split', `${config.eval.split}${config.eval.limit ? `, first ${config.eval.limit} images` : ''}`],
    ['eps', config.eps.join(', ')],
    ['eps units', config.epsUnits.join(', ') + ' (pixel: [0,1] with clipping; normalized: eps x 0.3081 in pixels, unclipped)'],
    [
      'attacks',
      `${config.attacks.join(', ')} (${[
        config.threats.join(', '),
        `transfer crafted on ${config.transferSource}`,
        ...(config.attacks.some((a) => a.startsWith('eot')) ? [`EOT K=${config.eotSamples}`] : []),
        ...(config.attacks.some((a) => a.endsWith('pgd')) ? [`PGD ${config.pgd.steps} steps${config.pgd.randomStart ? ', random start' : ''}`] : []),
      ].join('; ')})`,
    ],
    ['seeds', config.seeds.join(', ')],
    [
      'training',
      `${t.epochs} epochs, batch ${t.batchSize}, Adam lr ${t.lr}${t.limit ? `, first ${t.limit} training images` : ''}; AdvNet FGSM eps ${t.advEps} (${t.advUnits}), mix ${t.advMix}` +
        (packSize(config) > 1 ? `; seeds trained in packs of ${packSize(config)} (one batched computation per model and pack: ${seedChunks(config).map((c) => c.join('+')).join(', ')})` : ''),
    ],
    ['GlanceAgain', `base layer ${config.glance.baseLayer}, ${config.glance.resampling} resampling`],
    ['backend', backends.join('; ') || '—'],
    ['library versions', meta ? Object.entries(meta.versions).map(([k, v]) => `${k} ${v}`).join(', ') : '—'],
    ['git commit', meta?.commit ?? gitCommit()],
    ['machine', `${cpu.length} x ${cpu[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`],
    ['wall time', wallTime([...lines.values()])],
  ];
  const groups = aggregate(results);
  const sweep = sweepGroups(groups);
  const dir = join(reportsRoot, basename(runDir.replace(/\/+$/, '')));
  mkdirSync(dir, { recursive: true });
  const svgFile = sweep.length ? 'sweep.svg' : undefined;
  if (svgFile) writeFileSync(join(dir, svgFile), renderSweepSvg(sweep));
  const partial = missing.length > 0;
  writeFileSync(
    join(dir, 'report.md'),
    renderReport({
      title: `glance-bench: ${config.preset} run ${basename(runDir)}`,
      protocol,
      results,
      partial: partial ? { done: jobs.length - missing.length, total: jobs.length, missing } : undefined,
      command: meta?.command ?? `npx glance run --config ${join(runDir, 'config.json')} --out ${runDir}`,
      svgFile,
      eotSamples: config.eotSamples,
    }),
  );
  writeFileSync(join(dir, 'results.csv'), await renderResultsCsv(results));
  return { dir, partial };
}
