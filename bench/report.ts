/** bench/results.md from a run's results. Pure: plain data in, Markdown out. */
import type { BackendName, ModelName } from '../src/experiments/types.js';
import type { Estimate } from './estimate.js';
import { MODELS, TRAIN_BATCH, EVAL_BATCH } from './plan.js';
import type { KernelAblation } from './kernels.js';
import type { BenchResults, BenchSummary, Column, Rate } from './summary.js';
import type { PeerName, PeerResult } from './types.js';

const BACKENDS: BackendName[] = ['node', 'wasm', 'cpu'];
const PEER_TITLE: Record<PeerName, string> = { pytorch: 'PyTorch', tensorflow: 'TensorFlow Keras', jax: 'JAX jit' };
const ATTACK_ORDER = ['clean', 'fgsm', 'eot-fgsm-10', 'pgd-40'];

const METHOD = [
  '- glance: every backend in its own process (bench/child.ts) whose one worker thread selects the backend (`selectBackend`) and runs the project\'s code: ' +
    '`trainNet` (a 2-epoch warm-up on a few images, then one call whose epochs are the repetitions over the first N training images, N sized from the warm-up ' +
    'so an epoch takes the target time; the rate is `trainNet`\'s own per-epoch samples/s) and `evaluate` (on a model trained for one epoch on 1,024 images; ' +
    'a cheaper warm-up with the same shapes, then repetitions over different test slices). TensorFlow gets one intra-op and one inter-op thread.',
  '- glance\'s training rate includes everything `trainNet` does per batch: gathering and scaling the images, the transform draws and the JS transforms, ' +
    'forward, backward, Adam, and reading back the loss and accuracy.',
  '- Peers (bench/peers/): the same protocol in bench/peers/common.py, numpy batches from the same IDX files fed every step; the transforms in each framework\'s ' +
    'own bilinear resampling (PyTorch affine_grid + grid_sample, TensorFlow ImageProjectiveTransformV3, JAX map_coordinates in the jitted step), ' +
    'drawn per sample and batch; GlanceAgain\'s first layer frozen; AdvNet with FGSM eps 0.3 (pixels, clipped) and mix 0.5; Adam 1e-3. ' +
    'PyTorch and TensorFlow read the loss every step; JAX synchronises at the end of each repetition.',
  '- Medians over repetitions; the ratios are of medians measured in this run. Rates per CPU-second divide by the process\'s CPU time, ' +
    'so time lost to other processes on the same core does not count.',
];

export function fmt(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '-';
  if (n >= 100) return Math.round(n).toLocaleString('en-US');
  return n >= 10 ? n.toFixed(1) : n.toFixed(2);
}

const times = (r: number | undefined) => (r === undefined ? '-' : `${r >= 10 ? r.toFixed(0) : r >= 0.1 ? r.toFixed(2) : r.toPrecision(2)}x`);
const minutes = (s: number) => (s >= 90 ? `${(s / 60).toFixed(1)} min` : `${s.toFixed(0)} s`);

function cell(r: Rate | undefined): string {
  if (!r) return '-';
  const spread = r.wall.n > 1 ? ` ±${Math.round((50 * r.wall.spread))}%` : '';
  return `${fmt(r.wall.median)}${spread}${r.cpu ? ` (${fmt(r.cpu.median)})` : ''}`;
}

function table(head: string[], rows: string[][]): string[] {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
}

function columns(s: BenchSummary): Column[] {
  return [...BACKENDS, ...(['pytorch', 'tensorflow', 'jax'] as PeerName[])].filter((c) => s.train[c]);
}

const title = (c: Column) => ((BACKENDS as string[]).includes(c) ? `glance ${c}` : PEER_TITLE[c as PeerName]);

function versions(r: BenchResults): string[] {
  const out: string[] = [];
  for (const c of [...r.single, ...r.pool]) {
    if (c.state !== 'completed' || out.some((l) => l.startsWith(`- glance ${c.backend}:`))) continue;
    out.push(`- glance ${c.backend}: TensorFlow.js ${c.info.tfjs}${c.info.tensorflow ? `, native TensorFlow ${c.info.tensorflow} (tfjs-node built from the CPU wheel)` : ''}`);
  }
  for (const p of r.peers) if (p.state === 'completed') out.push(peerVersions(p));
  return out;
}

/** The BLAS library a peer's process loaded: its path (→ the file, when a link), OpenBLAS's config; undefined when the peer did not say. */
export function peerBlas(p: PeerResult): string | undefined {
  if (p.state !== 'completed' || !p.blas) return undefined;
  const libs = p.blas.loaded.map((l) => (l.realpath && l.realpath !== l.path ? `${l.path} → ${l.realpath}` : l.path));
  return `${libs.length ? libs.map((l) => `\`${l}\``).join(', ') : 'none mapped'}${p.blas.config ? ` (${p.blas.config})` : ''}`;
}

/** A completed peer's line under "Backends and peers": versions, threads, Python, environment given, BLAS loaded. */
export function peerVersions(p: Extract<PeerResult, { state: 'completed' }>): string {
  const v = Object.entries(p.versions).map(([k, x]) => `${k} ${x}`).join(', ');
  const th = Object.entries(p.threads).map(([k, x]) => `${k}=${x}`).join(', ');
  const env = Object.entries(p.env ?? {}).map(([k, x]) => `${k}=${x}`).join(' ');
  const blas = peerBlas(p);
  return `- ${PEER_TITLE[p.peer]}: ${v}; ${th}; python ${p.python}${env ? ` with ${env}` : ''}${blas ? `; BLAS loaded: ${blas}` : ''}`;
}

function targets(s: BenchSummary, workers: number, measured: BenchResults['measuredRuns'] = []): string[][] {
  const want: Array<[BackendName, ModelName, number]> = [
    ['node', 'GlanceAgain', 6000], ['node', 'NormalNet', 60000], ['node', 'AdvNet', 20000],
    ['wasm', 'GlanceAgain', 1500], ['wasm', 'NormalNet', 15000], ['wasm', 'AdvNet', 5000],
  ];
  const rows = want.map(([b, m, t]) => {
    const got = s.train[b]?.[m]?.wall.median;
    return [`${b}: ${m} training >= ${fmt(t)} samples/s`, fmt(got), got === undefined ? '-' : got >= t ? 'yes' : `no (${Math.round((100 * got) / t)}%)`];
  });
  for (const b of ['node', 'wasm'] as BackendName[]) {
    const p = s.pools[b]?.GlanceAgain?.find((x) => x.workers === workers);
    if (p && workers > 1) {
      rows.push([`${b}: parallel efficiency >= 90% at ${workers} workers (GlanceAgain)`,
        `${Math.round(100 * p.efficiency)}% (${Math.round(100 * p.cpuEfficiency)}% per core used, ${fmt(p.coresUsed)} cores used)`,
        p.efficiency >= 0.9 ? 'yes' : p.cpuEfficiency >= 0.9 ? 'not measurable here: the workers got too few cores' : 'no']);
    }
    const e = s.estimates[b];
    const limit = b === 'node' ? 20 : 60;
    const f = s.estimatesFreeCores[b];
    if (e && !('missing' in e && e.missing.length)) {
      const est = e as Estimate;
      const freeWall = f && !('missing' in f && f.missing.length) ? (f as Estimate).wallSeconds : undefined;
      const shown = `${minutes(est.wallSeconds)} here${freeWall === undefined ? '' : `, ${minutes(freeWall)} on free cores`}`;
      rows.push([`${b}: paper preset < ${limit} min on ${workers} cores (estimate)`, shown, (freeWall ?? est.wallSeconds) < limit * 60 ? 'yes' : 'no']);
    }
    // A measured run of the harness settles it better than the estimate.
    for (const run of measured.filter((x) => x.preset === 'paper' && x.backend === b && x.workers === workers)) {
      rows.push([`${b}: paper preset < ${limit} min on ${workers} cores (measured run, ${run.date})`, `${run.wallMinutes.toFixed(1)} min`, run.wallMinutes < limit ? 'yes' : 'no']);
    }
  }
  return rows;
}

/** The kernel ablation: per backend, each fast kernel's ratio off / on per model and the share of the preset it saves. */
function kernelsSection(r: BenchResults): string[] {
  const k = r.summary.kernels ?? {};
  const backends = BACKENDS.filter((b) => k[b]);
  if (!backends.length) return [];
  const out: string[] = ['## Kernels: what each fast kernel buys', ''];
  out.push(`Training samples/s (batch ${TRAIN_BATCH}, one worker pinned with ${r.pinning}, as above) of each model with every fast kernel on, and with one ` +
    'switched off by GLANCE_DISABLE_KERNELS=name in the measuring process, so that the reference kernel in plain tfjs ops (for a fix of a stock kernel: tfjs\'s own) runs instead; ' +
    'the LSTM\'s forward and gradient kernels are one entry, and "all off" switches off every one. Each configuration runs in a process of its own; ' +
    'on and off runs alternate, and each off run is compared with the on runs nearest before and after it: ratio = median samples/s off / median on ' +
    '(below 1: the model trains slower without the kernel). ' +
    'Saved: the paper preset\'s wall time as the estimate above computes it (bench/estimate.ts; the one-worker rates of this run, on free cores) recomputed with each model\'s ' +
    'training rate multiplied by its ratio, evaluation unchanged; saved = 1 - wall on / wall off. The ablation times training only, so a kernel that evaluation also runs saves at least this.', '');
  for (const b of backends) {
    const x = k[b] as KernelAblation;
    const ours = x.fast.length ? x.fast.join(', ') : 'none of our ops';
    out.push(`glance ${b}: fast kernels of our ops registered: ${ours}; ${x.processes} processes; the estimate on ${x.workers} workers at ${Math.round(100 * x.efficiency)}% efficiency.` +
      (x.basis === 'training' ? ' This run measured no evaluation rates, so the shares are of the preset\'s training jobs alone.' : ''), '');
    const rows: string[][] = [['none (all on), samples/s', ...MODELS.map((m) => fmt(x.on[m]?.median)), '-', '-']];
    for (const row of x.rows) {
      const wall = row.presetOn !== undefined && row.presetOff !== undefined ? `${minutes(row.presetOn)} → ${minutes(row.presetOff)}` : '-';
      const saved = row.saved === undefined ? '-' : `${(100 * row.saved).toFixed(1)}%`;
      rows.push([`${row.label}${row.runs > 1 ? ` (${row.runs} runs)` : ''}`, ...MODELS.map((m) => times(row.ratio[m])), wall, saved]);
    }
    out.push(...table(['kernels off', ...MODELS, 'paper preset, on → off', 'saved'], rows), '');
    for (const row of x.rows) if (row.warning) out.push(`WARNING (${b}, ${row.label}): ${row.warning}.`, '');
  }
  return out;
}

export function renderMarkdown(r: BenchResults): string {
  const s = r.summary;
  const m = r.machine;
  const workers = Math.max(1, ...Object.values(s.pools).flatMap((p) => Object.values(p ?? {}).flatMap((pts) => (pts ?? []).map((x) => x.workers))));
  const out: string[] = [];
  out.push(`# glance-bench: throughput (${r.mode} run)`, '');
  out.push(`Generated by \`npm run bench${r.mode === 'quick' ? ' -- --quick' : ''}\` on ${r.date}; the run took ${minutes(r.seconds)}.`, '');
  out.push(`Machine: ${m.cpu} (${m.features.join(', ') || 'no feature list'}), ${m.cores} cores, ${m.memoryGB.toFixed(1)} GB memory; ${m.os}; Node ${m.node}.`);
  out.push(`Phases (start in seconds, then the load averages over 1/5/15 min; the machine is shared with other work): ` +
    `${r.load.map((l) => `${l.phase} at ${l.at.toFixed(0)} s, load ${l.loadavg.map((x) => x.toFixed(2)).join('/')}`).join('; ')}.`, '');
  out.push('Backends and peers:', '', ...versions(r), '');
  for (const n of r.notes) out.push(`Note: ${n}`, '');

  const cols = columns(s);
  if (cols.length) {
    out.push(`## Training throughput, batch ${TRAIN_BATCH}, one worker, one core`, '');
    const rounds = r.rounds > 1 ? ` of ${r.rounds} rounds (glance's backends, then the peers, then all again)` : '';
    out.push(`Median samples/s over the repetitions${rounds} (wall clock), ± half the range as % of the median, and in parentheses samples per CPU-second of the process. ` +
      `Every column ran on one thread pinned with ${r.pinning}; glance through \`trainNet\` (GlanceAgain with its transforms, frozen base), the peers with the same models, transforms and optimiser.`, '');
    out.push(...table(['model', ...cols.map(title)], MODELS.map((model) => [model, ...cols.map((c) => cell(s.train[c]?.[model]))])), '');
  }

  if (s.ratios.length) {
    out.push('## glance / peer, same run', '');
    out.push('Ratio of the medians above (> 1: glance is faster); in parentheses the ratio of the per-CPU-second rates, which the load of other processes affects less.', '');
    const peers = (['pytorch', 'tensorflow', 'jax'] as PeerName[]).filter((p) => s.train[p]);
    const rows: string[][] = [];
    for (const b of BACKENDS) {
      if (!s.train[b]) continue;
      for (const model of MODELS) {
        const cells = peers.map((p) => {
          const x = s.ratios.find((q) => q.backend === b && q.peer === p && q.model === model);
          return x ? `${times(x.wall)} (${times(x.cpu)})` : '-';
        });
        rows.push([`glance ${b}`, model, ...cells]);
      }
    }
    out.push(...table(['backend', 'model', ...peers.map((p) => `vs ${PEER_TITLE[p]}`)], rows), '');
    // A peer built for the generic BLAS interface is as fast as the BLAS it loaded: say which, by its ratios.
    for (const p of r.peers) {
      const blas = peers.includes(p.peer) ? peerBlas(p) : undefined;
      if (blas) out.push(`${PEER_TITLE[p.peer]} ran on the BLAS library ${blas}.`, '');
    }
  }

  const attackBackends = BACKENDS.filter((b) => s.attacks[b]);
  if (attackBackends.length) {
    out.push(`## Attack throughput, evaluation batch ${EVAL_BATCH}, one worker`, '');
    out.push('Images/s through `evaluate` (craft on the model, then classify it), median (per CPU-second in parentheses); eps 0.3 in pixel units. ' +
      'AdvNet has NormalNet\'s architecture and costs the same. `clean` is classification alone.', '');
    const rows: string[][] = [];
    for (const model of MODELS) {
      const labels = ATTACK_ORDER.filter((l) => attackBackends.some((b) => s.attacks[b]?.[model]?.[l]));
      for (const l of labels) rows.push([model, l, ...attackBackends.map((b) => cell(s.attacks[b]?.[model]?.[l]))]);
    }
    out.push(...table(['model', 'attack', ...attackBackends.map((b) => `glance ${b}`)], rows), '');
  }

  const poolRows: string[][] = [];
  for (const b of BACKENDS) {
    for (const model of MODELS) {
      const pts = s.pools[b]?.[model];
      if (!pts) continue;
      const one = pts.find((p) => p.workers === 1);
      const many = pts.find((p) => p.workers === workers && workers > 1);
      const pct = (x: number | undefined) => (x === undefined ? '-' : `${Math.round(100 * x)}%`);
      poolRows.push([b, model, fmt(one?.aggregate), fmt(many?.aggregate), many ? many.perWorker.map(fmt).join(' + ') : '-',
        pct(many?.efficiency), `${fmt(one?.coresUsed)} / ${fmt(many?.coresUsed)}`, pct(many?.cpuEfficiency), fmt(one?.peakRssPerWorkerMB), fmt(many?.peakRssPerWorkerMB)]);
    }
  }
  if (poolRows.length) {
    out.push(`## Scaling: the same training job in 1 and in ${workers} worker threads at once`, '');
    out.push('Samples/s of all workers together (images over the span from the common start to the last worker done); not pinned. ' +
      `Efficiency = throughput with ${workers} / (${workers} x throughput with 1). Cores used = process CPU-seconds per wall second during the run ` +
      '(1 worker / all workers): on a shared machine the other processes take the rest, which caps the efficiency; ' +
      'efficiency per core used = (throughput / cores used) relative to one worker, the scaling of the code itself. ' +
      'Peak RSS per worker: each pool size runs in a process of its own; its peak RSS minus its RSS before the workers started, per worker, MB.', '');
    out.push(...table(['backend', 'model', '1 worker', `${workers} workers`, 'per worker', 'efficiency', 'cores used', 'efficiency per core used',
      'peak RSS/worker (1)', `peak RSS/worker (${workers})`], poolRows), '');
  }

  const mem = BACKENDS.filter((b) => s.memory[b]);
  if (mem.length) {
    out.push('## Peak memory per worker', '');
    out.push('Single-worker process (all of the training and attack measurements above): resident set before the worker started (dataset loaded), the process peak (maxRSS), and their difference, the worker\'s peak. MB.', '');
    out.push(...table(['backend', 'before the worker', 'process peak', 'worker peak'], mem.map((b) => {
      const x = s.memory[b]!;
      return [b, fmt(x.baselineMB), fmt(x.peakMB), fmt(x.workerPeakMB)];
    })), '');
  }

  const est = BACKENDS.filter((b) => s.estimates[b]);
  if (est.length) {
    out.push('## Estimate: the paper preset', '');
    out.push('5 seeds x 3 models x 15 epochs x 60,000 training images, then on 10,000 test images clean, transfer FGSM (from NormalNet) and white-box FGSM, EOT-FGSM K=10 on GlanceAgain, ' +
      'in pixel and normalized eps units (the preset\'s real job grid), from the one-worker rates above; ' +
      `wall time = max(worker-seconds / (${workers} x efficiency), longest dependency chain): at the efficiency measured here (other work held part of the cores), ` +
      `and on ${workers} free cores at the efficiency per core used (at most 100%); one training job per model and seed.` +
      `${r.measuredRuns?.length ? ' Measured runs of the harness follow the table.' : ' Not yet compared with a measured run of the harness.'}`, '');
    out.push(...table(['backend', 'training (worker-s)', 'evaluation (worker-s)', 'longest chain', `wall on ${workers} workers, this machine`, `wall on ${workers} free cores`], est.map((b) => {
      const e = s.estimates[b]!;
      if ('missing' in e && e.missing.length) return [b, '-', '-', '-', `not estimated: no rate for ${e.missing.join(', ')}`, '-'];
      const x = e as Estimate;
      const free = s.estimatesFreeCores[b] as Estimate | undefined;
      const freeCell = free?.wallSeconds === undefined ? '-' : `**${minutes(free.wallSeconds)}** (efficiency ${Math.round(100 * free.efficiency)}%)`;
      return [b, minutes(x.trainSeconds), minutes(x.evalSeconds), minutes(x.criticalPathSeconds), `${minutes(x.wallSeconds)} (efficiency ${Math.round(100 * x.efficiency)}%)`, freeCell];
    })), '');
  }

  out.push(...kernelsSection(r));

  if (r.measuredRuns?.length) {
    out.push('## Measured runs of the harness', '');
    out.push(...table(['preset', 'backend', 'workers', 'jobs', 'wall time', 'date', 'conditions', 'report'],
      r.measuredRuns.map((x) => [x.preset, x.backend, String(x.workers), String(x.jobs), `${x.wallMinutes.toFixed(1)} min`, x.date, x.conditions, x.report])), '');
  }

  out.push('## Targets of issue 10', '');
  out.push(...table(['target', 'measured', 'met'], targets(s, workers, r.measuredRuns)), '');

  out.push('## Method', '');
  out.push(...METHOD, '');

  if (s.skipped.length || s.errors.length) {
    out.push('## Not measured', '');
    for (const x of s.skipped) out.push(`- SKIPPED ${x.what}: ${x.reason}`);
    for (const x of s.errors) out.push(`- ERROR ${x.what}: ${x.error}`);
    out.push('');
  }
  return out.join('\n');
}
