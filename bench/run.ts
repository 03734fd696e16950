/**
 * npm run bench [-- --quick] : throughput of glance's training and attacks on each
 * backend, against PyTorch, TensorFlow Keras and JAX in the same run; scaling over
 * worker threads; peak memory; the estimate for the paper preset; what each fast
 * kernel buys (training with it switched off, GLANCE_DISABLE_KERNELS). Writes
 * bench/results.md and bench/results.json and prints the Markdown, with the
 * measured runs of the harness listed in bench/measured-runs.json.
 *
 * Options:
 *   --quick            under two minutes: short repetitions, cpu backend included
 *   --backends a,b     glance backends (default: the plan's: node,wasm[,cpu])
 *   --peers a,b        pytorch,tensorflow,jax (default all); --no-peers for none
 *   --venv DIR         the peers' virtual environment (default .cache/bench-venv)
 *   --out DIR          where results.md/json go (default bench/ for the full run, whose results
 *                      are kept in git, and the git-ignored .cache/bench/ for --quick; - prints only)
 *   --only kernels     the kernel ablation alone (its shares then weigh the preset's training only)
 *   --render FILE      measure nothing: summarize a results.json again and write/print the report
 *
 * Every glance backend runs in its own process and worker thread; one-worker runs,
 * the kernel ablation's runs and peers are pinned to core 0 (taskset -c 0) so their
 * rates compare; the pool runs use all cores. Progress goes to stderr.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BACKENDS, type BackendName } from '../src/experiments/types.js';
import { machine } from './machine.js';
import { PEERS, runPeer, setupPeers, type PeerSetup } from './peers.js';
import { fullPlan, kernelEntries, kernelSequence, ON, quickPlan, STOCK_FIXES, type BenchPlan, type KernelEntry } from './plan.js';
import { renderMarkdown } from './report.js';
import { pinning, projectRoot, runChild } from './spawn.js';
import { mergePeer, mergeSingle } from './merge.js';
import { summarizeRun, type BenchResults } from './summary.js';
import type { AblationRun, ChildJob, ChildResult, PeerName, PeerResult } from './types.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    backends: { type: 'string' },
    peers: { type: 'string', default: PEERS.join(',') },
    'no-peers': { type: 'boolean', default: false },
    venv: { type: 'string', default: '.cache/bench-venv' },
    out: { type: 'string' },
    only: { type: 'string' },
    render: { type: 'string' },
  },
});

function list<T extends string>(flag: string, value: string, allowed: readonly T[]): T[] {
  const items = value.split(',').map((x) => x.trim()).filter(Boolean);
  for (const x of items) {
    if (!allowed.includes(x as T)) throw new TypeError(`--${flag}: unknown ${JSON.stringify(x)}; expected some of ${allowed.join(', ')}`);
  }
  return items as T[];
}

const log = (msg: string) => process.stderr.write(`${msg}\n`);

/**
 * Measured runs of the harness (the paper preset's wall time) are kept by hand in
 * bench/measured-runs.json, not measured here, so a new bench run reports them too.
 */
function withMeasuredRuns(results: BenchResults): BenchResults {
  const file = join(projectRoot(), 'bench', 'measured-runs.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return results;
    throw e;
  }
  try {
    return { ...results, measuredRuns: JSON.parse(text) as BenchResults['measuredRuns'] };
  } catch (e) {
    throw new Error(`${file} is not valid JSON (${(e as Error).message}); fix or remove it: it lists measured runs of the harness, an array of { preset, backend, workers, jobs, wallMinutes, date, report, conditions }`);
  }
}

function write(measured: BenchResults): void {
  const results = withMeasuredRuns(measured);
  const md = renderMarkdown(results);
  // bench/ keeps the full run's results in git; partial runs go to the git-ignored cache.
  const out = args.out ?? (results.mode === 'quick' || args.only ? '.cache/bench' : 'bench');
  if (out !== '-') {
    const dir = resolve(projectRoot(), out);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'results.md'), `${md}\n`);
    writeFileSync(join(dir, 'results.json'), `${JSON.stringify(results, null, 1)}\n`);
    log(`bench: wrote ${join(out, 'results.md')} and results.json`);
  }
  console.log(md);
}

/** --render: the same measurements, summarized and reported by the current code. */
function render(file: string): void {
  const old = JSON.parse(readFileSync(file, 'utf8')) as BenchResults;
  const workers = Math.max(1, ...old.pool.map((p) => (p.state === 'completed' && p.mode === 'pool' ? p.workers : 1)));
  write({ ...old, summary: summarizeRun(old.single, old.pool, old.peers, workers, old.ablation) });
}

/**
 * The kernel ablation on one backend, each run a one-worker process pinned to
 * `cores`: the first run (every kernel on) reports which fast kernels the backend
 * registers, which makes the entries; then the plan's sequence of on and off runs.
 */
async function ablate(plan: BenchPlan, backend: BackendName, cores: string | undefined, phase: (name: string) => void): Promise<AblationRun[]> {
  const kp = plan.kernels[backend]!;
  const job = (e: KernelEntry): ChildJob => ({ mode: 'single', backend, tasks: kp.tasks, disable: e.disable, stockKernels: STOCK_FIXES[backend] });
  phase(`glance ${backend}, kernel ablation`);
  const first = await runChild(job(ON), cores);
  const runs: AblationRun[] = [{ backend, config: ON.label, disable: [], result: first }];
  if (first.state !== 'completed' || first.mode !== 'single' || !first.kernels) return runs;
  const sequence = kernelSequence(kernelEntries(backend, first.kernels.fast), kp.passes, kp.onEvery).slice(1);
  for (const [i, e] of sequence.entries()) {
    log(`  kernels ${backend}, run ${i + 2}/${sequence.length + 1}: ${e === ON ? 'all on' : `${e.disable.join(',')} off`}`);
    runs.push({ backend, config: e.label, disable: e.disable, result: await runChild(job(e), cores) });
  }
  return runs;
}

async function main(): Promise<void> {
  if (args.render) return render(args.render);
  const t0 = performance.now();
  const workers = os.availableParallelism();
  const plan = args.quick ? quickPlan(workers) : fullPlan(workers);
  const backends = args.backends ? list('backends', args.backends, BACKENDS.filter((b) => b !== 'auto') as BackendName[]) : plan.backends;
  if (args.only !== undefined && args.only !== 'kernels') throw new TypeError(`--only: expected kernels, got ${JSON.stringify(args.only)}`);
  const only = args.only === 'kernels';
  const peers = args['no-peers'] || only ? [] : list<PeerName>('peers', args.peers!, PEERS);
  const pin = pinning('0');
  const cores = pin.length ? '0' : undefined;
  const load: BenchResults['load'] = [];
  const phase = (name: string) => {
    load.push({ phase: name, at: (performance.now() - t0) / 1000, loadavg: os.loadavg() });
    log(`bench (${plan.name}): ${name} [load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}]`);
  };
  const info = machine();

  // Rounds: glance's backends, then the peers, again; later rounds repeat the training
  // measurements only. Merging the rounds spreads every column over the same stretches
  // of time, so a change in the machine's load biases no column more than another.
  let setup: PeerSetup | undefined;
  if (peers.length) {
    phase('peers: setup');
    setup = await setupPeers(args.venv!); // the venv is relative to the project root, where setup.sh and the peers run
  }
  const singleRounds: ChildResult[][] = backends.map(() => []);
  const peerRounds: PeerResult[][] = peers.map(() => []);
  for (let round = 1; round <= (only ? 0 : plan.rounds); round++) {
    for (const [i, b] of backends.entries()) {
      const tasks = plan.single[b]?.filter((t) => round === 1 || t.kind === 'train');
      if (!tasks?.length) {
        if (round === 1) singleRounds[i].push({ state: 'skipped', backend: b, reason: `not in the ${plan.name} plan` });
        continue;
      }
      if (round > 1 && singleRounds[i][0]?.state === 'skipped') continue;
      phase(`glance ${b}, one worker, round ${round}`);
      singleRounds[i].push(await runChild({ mode: 'single', backend: b, tasks }, cores));
    }
    for (const [i, p] of peers.entries()) {
      const s = setup![p];
      if ('reason' in s) {
        if (round === 1) {
          log(`  ${p}: skipped: ${s.reason}`);
          peerRounds[i].push({ state: 'skipped', peer: p, reason: s.reason });
        }
        continue;
      }
      phase(`peer ${p}, round ${round}`);
      peerRounds[i].push(await runPeer(p, s, plan.peers, cores));
    }
  }
  const single = only ? [] : singleRounds.map(mergeSingle);
  const peerResults = peerRounds.map(mergePeer);

  const pool: ChildResult[] = [];
  for (const b of backends) {
    const tasks = plan.pool[b];
    if (only || !tasks || single.find((r) => r.backend === b)?.state === 'skipped') continue;
    // The same job in every pool size: the limits the one-worker pool chose.
    let sized = tasks;
    for (const n of plan.poolWorkers) {
      phase(`glance ${b}, pool of ${n} worker${n > 1 ? 's' : ''}`);
      const r = await runChild({ mode: 'pool', backend: b, workers: n, tasks: sized });
      pool.push(r);
      if (r.state !== 'completed' || r.mode !== 'pool') break;
      sized = tasks.map((t) => {
        const run = r.runs.find((x) => x.model === t.model);
        return run && 'limit' in run ? { ...t, limit: run.limit } : t;
      });
    }
  }
  const ablation: AblationRun[] = [];
  for (const b of backends) {
    if (!plan.kernels[b] || single.find((r) => r.backend === b)?.state === 'skipped') continue;
    ablation.push(...(await ablate(plan, b, cores, phase)));
  }
  phase('end');

  const results: BenchResults = {
    mode: plan.name,
    rounds: plan.rounds,
    date: new Date().toISOString(),
    seconds: (performance.now() - t0) / 1000,
    machine: info,
    load,
    pinning: cores ? '`taskset -c 0`' : 'nothing (taskset not found)',
    notes: plan.notes,
    single,
    pool,
    peers: peerResults,
    ablation,
    summary: summarizeRun(single, pool, peerResults, Math.max(...plan.poolWorkers), ablation),
  };
  write(results);
}

await main();
