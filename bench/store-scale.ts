/**
 * Stores of 100,000 and 1,000,000 results lines: how long `glance status`, a
 * resume with nothing left to do and `glance report` take on them, and their
 * peak memory. The stores are fabricated in the shape a real paper-preset run
 * writes (bench/store-scale's lines are built like the scheduler's, eval results
 * with 10,000 examples of per-example bits, about 1.7 KB each), with as many seeds
 * as it takes to reach the line count. Each command runs as its own process, the
 * way a user runs it (the compiled CLI in dist/), timed by /usr/bin/time.
 *
 *   npx tsx bench/store-scale.ts [--lines 100000,1000000] [--dir DIR] [--keep] [--write]
 *
 * --write replaces the "Stores of a million lines" section of bench/results.md.
 * The stores take about 230 MB and 2.3 GB; they go to a temporary directory
 * (or --dir) and are removed unless --keep.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, linkSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { basename } from 'node:path';
import { buildJobs, type EvalJob, type TrainJob } from '../src/experiments/grid.js';
import { checkpointName, netSpec, weightShapes } from '../src/experiments/models.js';
import type { BackendInfo, EpochReport, EpsUnits } from '../src/experiments/types.js';
import { checkpointFiles, saveCheckpoint } from '../src/training/checkpoint.js';
import { configHash } from '../src/experiments/config-hash.js';
import { PRESETS } from '../src/experiments/presets.js';
import type { ExperimentConfig } from '../src/experiments/config.js';
import { encodeBits } from '../src/experiments/example-bits.js';
import { machineInfo, libraryVersions } from '../src/coordinator/meta.js';
import { projectRoot } from './spawn.js';

const SPLIT = 10_000;
const BACKEND = { name: 'node', tfjs: '4.22.0', tensorflow: '2.21.0' };
const MNIST_FINGERPRINT = 'c65580678af93f1e';

/** A deterministic stream of pseudo-random numbers (the bits' patterns; their values do not matter). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

/** The paper preset with seeds 1..n, n chosen so the grid has at least `lines` jobs. */
function configFor(lines: number): ExperimentConfig {
  const perSeed = buildJobs({ ...PRESETS.paper, seeds: [1] }, SPLIT).length;
  const seeds = Array.from({ length: Math.ceil(lines / perSeed) }, (_, i) => i + 1);
  return { ...PRESETS.paper, seeds };
}

/** Writes config.json, meta.json, checkpoint manifests and `lines` results lines, as a finished run leaves them. */
export function fabricate(dir: string, lines: number): void {
  const config = configFor(lines);
  const hash = configHash(config);
  mkdirSync(join(dir, 'checkpoints'), { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ storeFormat: 2, ...config }, null, 2) + '\n');
  const meta = {
    splitSize: SPLIT,
    datasetFingerprint: MNIST_FINGERPRINT,
    command: `npx glance run --config ${join(dir, 'config.json')} --out ${dir}`,
    versions: libraryVersions(),
    commit: 'fabricated',
    machine: machineInfo(),
  };
  writeFileSync(join(dir, 'meta.json'), JSON.stringify(meta, null, 2) + '\n');
  templates.clear();
  const rand = lcg(7);
  // A few hundred distinct bit patterns at about 97 % correct, reused: the size and shape are what count.
  const pools = new Map<number, string[]>();
  const bitsOf = (n: number) => {
    let pool = pools.get(n);
    if (!pool) pools.set(n, (pool = Array.from({ length: 256 }, () => encodeBits(Array.from({ length: n }, () => (rand() < 0.97 ? 1 : 0))))));
    return pool[Math.floor(rand() * pool.length)];
  };
  // The whole grid: a finished run (`lines` rounded up to whole seeds).
  const jobs = buildJobs(config, SPLIT);
  const fd = openSync(join(dir, 'results.jsonl'), 'w');
  let chunk: string[] = [];
  let t = Date.parse('2026-12-01T00:00:00Z');
  const flush = () => {
    writeSync(fd, chunk.join(''));
    chunk = [];
  };
  for (const job of jobs) {
    const seconds = job.kind === 'train' ? 20 + 60 * rand() : 2 + 10 * rand();
    t += seconds * 1000;
    const at = new Date(t).toISOString();
    if (job.kind === 'train') {
      const checkpoint = checkpointName(job.model, job.seed, (job as { advUnits?: EpsUnits }).advUnits);
      const history = Array.from({ length: 15 }, (_, i) => ({ epoch: i + 1, epochs: 15, loss: 0.3 / (i + 1) + rand() * 0.01, accuracy: 90 + i * 0.5 + rand(), samplesPerSec: 3000 + 30000 * rand(), seconds: seconds / 15 }));
      const train = { model: job.model, seed: job.seed, checkpoint, history, backend: BACKEND };
      chunk.push(JSON.stringify({ jobId: job.id, status: 'done', seconds, attempt: 1, train, at, configHash: hash }) + '\n');
      writeCheckpoint(dir, job, config, hash, history, at);
    } else {
      const e = job as EvalJob;
      const results = e.epsUnits.flatMap((epsUnits) =>
        e.eps.map((eps) => {
          const eff = e.attack === 'none' ? 0 : eps;
          const correct = Math.round((e.end - e.start) * (eff ? 0.1 + 0.6 * rand() : 0.97 + 0.01 * rand()));
          return {
            kind: 'eval', dataset: config.dataset, model: e.model, seed: e.seed, threat: e.threat, attack: e.attack, source: e.source,
            eps: eff, epsUnits, split: config.eval.split, start: e.start, end: e.end, correct, total: e.end - e.start,
            backend: BACKEND, seconds, correctBits: bitsOf(e.end - e.start), gradient: 'stable',
          };
        }),
      );
      chunk.push(JSON.stringify({ jobId: job.id, status: 'done', seconds, attempt: 1, results, at, configHash: hash }) + '\n');
    }
    if (chunk.length >= 2000) flush();
  }
  flush();
  closeSync(fd);
}

/** One real checkpoint per model (zero weights), then per seed its manifest with the seed, the weights hard-linked: what a resume verifies (size, SHA-256, seed, run, data) holds. */
const templates = new Map<string, { manifest: Record<string, unknown>; weights: string }>();
function writeCheckpoint(dir: string, job: TrainJob, config: ExperimentConfig, hash: string, history: EpochReport[], at: string): void {
  const advUnits = (job as { advUnits?: EpsUnits }).advUnits;
  const name = checkpointName(job.model, job.seed, advUnits);
  const cdir = join(dir, 'checkpoints');
  const key = `${job.model}@${advUnits ?? ''}`;
  let t = templates.get(key);
  if (!t) {
    const spec = netSpec(job.model, config);
    const weights = Object.fromEntries(Object.entries(weightShapes(spec)).map(([n, shape]) => [n, { shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) }]));
    const tname = `.template-${job.model}${advUnits ? `@${advUnits}` : ''}`;
    const manifest = saveCheckpoint(cdir, tname, weights, { spec, config: { ...config.train, ...(advUnits ? { advUnits } : {}) } as never, seed: job.seed, backend: BACKEND as BackendInfo, versions: libraryVersions(), dataFingerprint: MNIST_FINGERPRINT, configHash: hash, history, createdAt: at });
    t = { manifest: manifest as unknown as Record<string, unknown>, weights: checkpointFiles(cdir, tname).weights };
    templates.set(key, t);
  }
  const files = checkpointFiles(cdir, name);
  writeFileSync(files.manifest, JSON.stringify({ ...t.manifest, seed: job.seed, weightsFile: basename(files.weights), history, createdAt: at }, null, 2) + '\n');
  if (!existsSync(files.weights)) linkSync(t.weights, files.weights);
}

interface Measured {
  seconds: number;
  /** User + system CPU seconds: what the command costs, on a machine other work also loads. */
  cpu: number;
  peakMB: number;
  status: number | null;
  tail: string;
}

/** Runs the compiled glance once, timed by /usr/bin/time (wall seconds, peak resident set). */
function timed(root: string, args: string[]): Measured {
  const r = spawnSync('/usr/bin/time', ['-f', 'TIMED %e %M %U %S', process.execPath, join(root, 'dist/src/cli/index.js'), ...args], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
  const m = /TIMED ([\d.]+) (\d+) ([\d.]+) ([\d.]+)\s*$/.exec(r.stderr);
  const tail = (r.stderr.replace(/TIMED.*$/s, '') + r.stdout).trim().split('\n').slice(-2).join(' / ');
  return { seconds: m ? Number(m[1]) : NaN, cpu: m ? Number(m[3]) + Number(m[4]) : NaN, peakMB: m ? Number(m[2]) / 1024 : NaN, status: r.status, tail };
}

const fmt = (m: Measured) => (m.status === 0 ? `${m.seconds.toFixed(2)} s (${m.cpu.toFixed(2)} s CPU), ${Math.round(m.peakMB)} MB` : `failed (exit ${m.status}): ${m.tail}`);

const SECTION = '## Stores of a million lines';

/** The table rows of the section already in bench/results.md (a run of one size keeps the other's row). */
function previousRows(root: string): string[] {
  const text = readFileSync(join(root, 'bench/results.md'), 'utf8');
  const start = text.indexOf(SECTION);
  if (start < 0) return [];
  const next = text.indexOf('\n## ', start + 1);
  return text.slice(start, next < 0 ? undefined : next).split('\n').filter((l) => /^\| [\d,]+ \|/.test(l));
}

/** Rows keyed by their line count: the new ones replace the old ones of the same size. */
function mergeRows(old: string[], fresh: string[]): string[] {
  const key = (r: string) => r.split('|')[1].trim();
  const byKey = new Map(old.map((r) => [key(r), r]));
  for (const r of fresh) byKey.set(key(r), r);
  return [...byKey.entries()].sort((a, b) => Number(a[0].replace(/,/g, '')) - Number(b[0].replace(/,/g, ''))).map(([, r]) => r);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { lines: { type: 'string', default: '100000,1000000' }, dir: { type: 'string' }, keep: { type: 'boolean' }, write: { type: 'boolean' } } });
  const root = projectRoot();
  process.stderr.write('building dist/ (tsc -p tsconfig.build.json)\n');
  // tsc emits despite type errors elsewhere in a tree being edited; what is measured is the code as emitted.
  const build = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  if (build.status !== 0) process.stderr.write('bench/store-scale: tsc reported errors (dist/ was emitted anyway)\n');
  const base = values.dir ?? mkdtempSync(join(tmpdir(), 'glance-store-scale-'));
  const rows: string[] = [];
  for (const n of values.lines!.split(',').map(Number)) {
    const dir = join(base, `store-${n}`);
    rmSync(dir, { recursive: true, force: true });
    const t0 = performance.now();
    fabricate(dir, n);
    const bytes = readFileSync(join(dir, 'config.json')).length;
    const size = spawnSync('du', ['-sm', join(dir, 'results.jsonl')], { encoding: 'utf8' }).stdout.split('\t')[0];
    process.stderr.write(`fabricated ${n} lines (${size} MB of results.jsonl, config ${bytes} bytes) in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    const reports = join(base, `reports-${n}`);
    const status = timed(root, ['status', dir]);
    process.stderr.write(`  status: ${fmt(status)}\n`);
    const report = timed(root, ['report', dir, '--reports', reports]);
    process.stderr.write(`  report: ${fmt(report)}\n`);
    // The report exists now, as after a finished run: an idle resume only checks and leaves.
    // The first resume verifies every checkpoint and records their stamps; later ones read only changed ones.
    const idle = () => timed(root, ['run', '--config', join(dir, 'config.json'), '--out', dir, '--reports', reports, '--quiet']);
    const resume = idle();
    const again = idle();
    process.stderr.write(`  idle resume: ${fmt(resume)}; again: ${fmt(again)}\n`);
    rows.push(`| ${n.toLocaleString('en-US')} | ${size} MB | ${fmt(status)} | first: ${fmt(resume)}; again: ${fmt(again)} | ${fmt(report)} | ${loadavg().map((x) => x.toFixed(1)).join(' ')} |`);
    if (!values.keep) rmSync(dir, { recursive: true, force: true });
    rmSync(reports, { recursive: true, force: true });
  }
  if (!values.dir && !values.keep) rmSync(base, { recursive: true, force: true });
  const section = [
    SECTION,
    '',
    `Measured by \`npx tsx bench/store-scale.ts --write\` on ${new Date().toISOString().slice(0, 10)} (${machineInfo().cores} cores, Node ${process.versions.node}); ` +
      'fabricated finished paper-preset stores (seeds 1..n; eval lines carry 10,000 examples of per-example bits each), ' +
      'each command a process of the compiled CLI, wall time and peak resident memory from /usr/bin/time. ' +
      'Wall time and, in parentheses, the CPU time of the process (the machine is shared: the load average is given); ' +
      'targets (issue 19): status and an idle resume under 1 s at 100,000 lines; report streams at 1,000,000 lines.',
    '',
    '| lines | results.jsonl | `glance status` | idle resume (`glance run`, report up to date) | `glance report` | load average after |',
    '|---:|---:|---|---|---|---|',
    ...mergeRows(previousRows(root), rows),
    '',
    '- A failed cell shows the command\'s own message: at 1,000,000 lines (15,625 seeds of 64 jobs) `glance run` refuses the grid as too large before anything starts (exit 2), so there is no idle resume to time.',
    '- The first idle resume of a store checks every finished training\'s checkpoint whole (size, SHA-256, seed, run) and records each one\'s size and mtime in checkpoints-verified.json; the next resumes read only checkpoints whose files changed since ("again"). `glance status` hashes checkpoints only up to 200 finished trainings.',
    '- The report holds per-example bits up to 64 MB; these stores hold more, so their reports leave the paired comparisons out and say so.',
    '',
  ].join('\n');
  process.stdout.write(section + '\n');
  if (values.write) {
    const file = join(root, 'bench/results.md');
    const text = readFileSync(file, 'utf8');
    const start = text.indexOf(SECTION);
    const next = start < 0 ? -1 : text.indexOf('\n## ', start + 1);
    const updated = start < 0 ? `${text.trimEnd()}\n\n${section}` : text.slice(0, start) + section + (next < 0 ? '' : text.slice(next + 1));
    writeFileSync(file, updated);
  }
}

await main();
