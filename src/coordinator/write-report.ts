/**
 * Writes a run's report files (report.md, summary.json, results.csv, config.json, sweep.svg) into
 * reports/<run-id>/ from the run store alone, so a report can be regenerated at
 * any time, partial runs included (marked, with what is missing).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ensureDir } from '../data/durable.js';
import { MODEL_TABLE, type Objective } from '../experiments/models.js';
import { advTrainings, legacyAdvUnits, withAdvUnits } from '../experiments/readings.js';
import type { EvalResult, TrainRecord } from '../experiments/types.js';
import { aggregate, csvProvenance, paperCells, renderCellsSvg, renderReport, renderResultsCsv, renderSweepSvg, renderTrainingSvg, settingsOf, sweepGroups, trainingCurves } from '../report/index.js';
import { buildSummary } from '../report/summary.js';
import { buildJobs } from '../experiments/grid.js';
import { describeMachine, jobsOfRun, readMeta, type RunMeta } from './meta.js';
import { RunStore, type JobLine } from './store.js';

/** From the start of the first job (its stored time minus its duration) to the last stored job; a resumed run includes its pauses. */
function wallTime(all: Iterable<JobLine>): string {
  // A format-1 packed job is read as one line per seed, each with the job's time and end: count it once.
  const seen = new Set<string>();
  let first = Infinity;
  let last = -Infinity;
  let seconds = 0;
  for (const l of all) {
    const key = `${l.at} ${l.status} ${l.attempt} ${l.status === 'done' ? l.seconds : ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const s = l.status === 'done' ? l.seconds : 0;
    seconds += s;
    const end = Date.parse(l.at);
    if (!Number.isFinite(end)) continue;
    // Loops, not Math.max(...): a spread passes one argument per line, and past ~125,000 the call overflows the stack.
    last = Math.max(last, end);
    first = Math.min(first, end - 1000 * s);
  }
  if (!Number.isFinite(last)) return '—';
  const span = (last - first) / 1000;
  return `${(span / 60).toFixed(1)} min from the first job's start to the last stored job (${(seconds / 60).toFixed(1)} min of job time)`;
}

/**
 * Per-example bits the report keeps in memory at most (characters of base64; 64 MB is about 40,000
 * evaluations of 10,000 images, a paper run has about a hundred); past it they are left out.
 */
export const REPORT_BITS_BUDGET = 64 << 20;

/**
 * The store's last line per job id, without results, and the results of the
 * done ones, streamed (store.scan): never the whole file, never a line's bits
 * past the budget, so a store of a million lines reports in bounded memory.
 */
function readForReport(store: RunStore, bitsBudget: number): { lines: Map<string, JobLine>; results: EvalResult[]; bitsLeftOut: number } {
  const lines = new Map<string, JobLine>();
  const byJob = new Map<string, EvalResult[]>();
  let bits = 0;
  let keepBits = true;
  let bitsSeen = 0;
  store.scan((line) => {
    if (line.status === 'done' && line.results) {
      const { results, ...rest } = line;
      const old = byJob.get(line.jobId);
      for (const r of old ?? []) bits -= r.correctBits?.length ?? 0;
      for (const r of results) {
        const n = r.correctBits?.length ?? 0;
        if (keepBits && bits + n > bitsBudget) {
          // Over the budget: every result's bits go, so paired statistics are left out evenly, not for some seeds.
          keepBits = false;
          for (const rs of byJob.values()) for (const x of rs) delete x.correctBits;
        }
        bitsSeen += n;
        if (!keepBits && n) delete r.correctBits;
        bits += r.correctBits?.length ?? 0;
      }
      byJob.set(line.jobId, results);
      lines.set(line.jobId, rest as JobLine);
    } else {
      byJob.delete(line.jobId);
      lines.set(line.jobId, line);
    }
  });
  const results: EvalResult[] = [];
  for (const rs of byJob.values()) for (const r of rs) results.push(r);
  return { lines, results, bitsLeftOut: keepBits ? 0 : bitsSeen };
}

/** How the run's AdvNets were trained: one per reading, or an older store's one for every reading. */
function advNetText(config: Parameters<typeof advTrainings>[0]): string {
  const legacy = legacyAdvUnits(config);
  if (legacy) return `one AdvNet trained in ${legacy} units and evaluated in every eps reading`;
  const units = advTrainings(config).map((a) => a.units);
  return units.length ? `one AdvNet per eps reading, trained in its units (${units.join(', ')})` : 'no eps reading to train AdvNet in';
}

/** The machine(s) the run's meta.json recorded. */
function machineText(meta: RunMeta | undefined): string {
  const machines = meta?.machines ?? (meta?.machine ? [meta.machine] : []);
  return machines.length ? machines.map(describeMachine).join('; ') : 'not recorded';
}

/** The digit gallery's file name in a report folder (glance gallery writes it). */
export const GALLERY_FILE = 'gallery.svg';

/** The images evaluated as used: a limit past the split's size is the whole split, and says so. */
function evalLimitText(limit: number | undefined, splitSize: number | undefined): string {
  if (limit === undefined) return '';
  if (splitSize !== undefined && limit >= splitSize) return `, all ${splitSize} images (--eval-limit ${limit} asked for more than the split holds)`;
  return `, first ${limit} images`;
}

/** The report folder of a run: reports/<run-id>. */
export const reportDir = (runDir: string, reportsRoot = 'reports') => join(reportsRoot, basename(runDir.replace(/\/+$/, '')));

export async function writeRunReport(runDir: string, reportsRoot = 'reports', opts: { bitsBudget?: number } = {}): Promise<{ dir: string; partial: boolean }> {
  const store = new RunStore(runDir);
  store.requireRun();
  const { config, pack } = store.readStored();
  const meta = readMeta(runDir);
  const read = readForReport(store, opts.bitsBudget ?? REPORT_BITS_BUDGET);
  const lines = read.lines;
  const done = [...lines.values()].filter((l): l is Extract<JobLine, { status: 'done' }> => l.status === 'done');
  const results: EvalResult[] = withAdvUnits(read.results, config);
  const training: TrainRecord[] = done.flatMap((l) => (l.train ? [l.train] : []));
  const jobs = meta ? jobsOfRun(config, meta) : [];
  // Lines of another experiment's grid are refused, not reported (the whole grid: a merge holds every shard).
  if (meta) store.checkJobIds(lines, new Set(buildJobs(config, meta.splitSize).map((j) => j.id)));
  const missing = jobs.filter((j) => lines.get(j.id)?.status !== 'done').map((j) => j.id);
  const backends = [...new Set(results.map((r) => `${r.backend.name} (tfjs ${r.backend.tfjs}${r.backend.tensorflow ? `, TensorFlow ${r.backend.tensorflow}` : ''})`))];
  const t = config.train;
  const trainsWith = (objective: Objective) => config.models.some((m) => MODEL_TABLE[m].objective === objective);
  const protocol: Array<[string, string]> = [
    ['dataset', `${config.dataset}${meta ? ` (fingerprint ${meta.datasetFingerprint})` : ''}`],
    ['evaluation split', `${config.eval.split}${evalLimitText(config.eval.limit, meta?.splitSize)}`],
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
      `${t.epochs} epochs, batch ${t.batchSize}, Adam lr ${t.lr}${t.limit ? `, first ${t.limit} training images` : ''}` +
        (trainsWith('advnet') ? `; AdvNet FGSM eps ${t.advEps}, mix ${t.advMix}, ${advNetText(config)}` : '') +
        // A store of an older glance that trained several seeds as one batched computation says so.
        (pack > 1 ? `; seeds trained ${pack} at a time as one batched computation (--pack ${pack})` : ''),
    ],
    ...config.models
      .filter((m) => MODEL_TABLE[m].architecture === 'glance-again')
      .map((m): [string, string] => [m, `base layer ${config.glance.baseLayer}, ${config.glance.resampling} resampling`]),
    ['backend', backends.join('; ') || '—'],
    ['library versions', meta ? Object.entries(meta.versions).map(([k, v]) => `${k} ${v}`).join(', ') : '—'],
    ['git commit', meta?.commit ?? 'not recorded'],
    ['machine', machineText(meta)],
    ['wall time', wallTime(lines.values())],
    ...(read.bitsLeftOut
      ? [['per-example bits', `left out: the store holds ${Math.round(read.bitsLeftOut / 2 ** 20)} MB of them, more than the ${REPORT_BITS_BUDGET >> 20} MB a report keeps in memory, so the paired comparisons are not computed`] as [string, string]]
      : []),
  ];
  const groups = aggregate(results);
  const sweep = sweepGroups(groups);
  const dir = reportDir(runDir, reportsRoot);
  ensureDir(dir);
  const svgFile = sweep.length ? 'sweep.svg' : undefined;
  if (svgFile) writeFileSync(join(dir, svgFile), renderSweepSvg(sweep));
  const cells = paperCells(groups, settingsOf(groups), { eotLabel: `EOT-${config.eotSamples}` });
  const cellsSvgFile = cells.length ? 'cells.svg' : undefined;
  if (cellsSvgFile) writeFileSync(join(dir, cellsSvgFile), renderCellsSvg(cells));
  const curves = trainingCurves(training);
  const trainingSvgFile = curves.length ? 'training.svg' : undefined;
  if (trainingSvgFile) writeFileSync(join(dir, trainingSvgFile), renderTrainingSvg(curves));
  // The gallery needs tfjs, so `glance gallery` makes it (at the end of a run); the report links it when it is there.
  const galleryFile = existsSync(join(dir, GALLERY_FILE)) ? GALLERY_FILE : undefined;
  const partial = missing.length > 0;
  const counts = { done: jobs.length - missing.length, total: jobs.length };
  const run = { preset: config.preset, evalLimit: config.eval.limit, trainLimit: config.train.limit };
  // The report's conclusions, machine-readable: the same summary report.md renders.
  writeFileSync(join(dir, 'summary.json'), `${JSON.stringify(buildSummary(results, { ...run, partial: partial ? counts : undefined }), null, 2)}\n`);
  writeFileSync(
    join(dir, 'report.md'),
    renderReport({
      title: `glance-bench: ${config.preset} run ${basename(runDir)}`,
      protocol,
      results,
      partial: partial ? { ...counts, missing } : undefined,
      run,
      command: meta?.command ?? `npx glance run --config ${join(runDir, 'config.json')} --out ${runDir}`,
      svgFile,
      eotSamples: config.eotSamples,
      cellsSvgFile,
      training,
      trainingSvgFile,
      galleryFile,
    }),
  );
  writeFileSync(join(dir, 'results.csv'), await renderResultsCsv(results, csvProvenance(basename(dir), meta?.commit, config)));
  // The experiment as run, in the shape `glance run --config` reads.
  writeFileSync(join(dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  return { dir, partial };
}
