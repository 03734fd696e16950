/**
 * The options shared by `reproduce`, `sweep` and `run`: a preset, then a
 * --config file, then flags, merged into one ExperimentConfig and validated once.
 */
import { Command, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';
import { GlanceError, errors } from '../errors.js';
import { STAGES, type ExperimentConfig, type RunOptions } from '../experiments/config.js';
import { PRESETS, PRESET_NAMES } from '../experiments/presets.js';
import { resolveShard } from '../experiments/shard.js';
import { MAX_JOBS, checkKnownKeys, mergeConfig, validateConfig } from '../experiments/validate.js';
import { ATTACK_GRADIENTS, ATTACKS, PGD_LOSSES, BACKENDS, BASE_LAYER, EPS_UNITS, MODELS, RESAMPLING, SPLITS } from '../experiments/types.js';

export interface RawOptions {
  preset: string;
  config?: string;
  out?: string;
  workers?: string;
  seeds?: string;
  models?: string;
  epochs?: string;
  batchSize?: string;
  lr?: string;
  trainLimit?: string;
  evalLimit?: string;
  evalSplit?: string;
  evalShards?: string;
  evalBatchSize?: string;
  eps?: string;
  epsUnits?: string;
  attacks?: string;
  threats?: string;
  baseLayer?: string;
  resampling?: string;
  eotSamples?: string;
  pgdSteps?: string;
  pgdRestarts?: string;
  pgdLoss?: string;
  squareQueries?: string;
  attackGradient?: string;
  attackLimit?: string;
  advEps?: string;
  advMix?: string;
  advUnits?: string;
  backend?: string;
  dataset?: string;
  dataDir?: string;
  shard?: string;
  shards?: string;
  stage?: string;
  quiet?: boolean;
  json?: boolean;
  forceNew?: boolean;
  reports?: string;
  reuseCheckpoints?: string[];
}

const list = (s: string | undefined) => (s === undefined ? undefined : s.split(',').map((x) => x.trim()).filter(Boolean));
function number(option: string, s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const n = Number(s);
  if (s.trim() === '' || !Number.isFinite(n)) throw errors.badOption(option, s, 'a number');
  return n;
}
const numbers = (option: string, s: string | undefined) => list(s)?.map((x) => number(option, x)!);

/** --attack-limit square=1000,pgd=2000 -> { square: 1000, pgd: 2000 } (checked by validateConfig). */
function attackLimits(s: string | undefined): Record<string, number> | undefined {
  const entries = list(s)?.map((item) => {
    const m = /^([a-z-]+)=(.+)$/.exec(item);
    if (!m) throw errors.badOption('--attack-limit', s, 'attack=n pairs, e.g. square=1000,pgd=2000');
    return [m[1], number('--attack-limit', m[2])!] as const;
  });
  return entries && Object.fromEntries(entries);
}

/** --seeds 5 means seeds 1..5; --seeds 3,7,11 lists them. */
function seeds(s: string | undefined): number[] | undefined {
  if (s === undefined) return undefined;
  if (/^\d+$/.test(s.trim())) {
    const n = Number(s);
    if (n < 1) throw errors.badOption('--seeds', s, 'a count >= 1 or a list of seeds');
    // Before a list of them is made: the grid's size is checked (validateConfig), but n itself must fit in memory first.
    if (n > MAX_JOBS) throw errors.badOption('--seeds', s, `at most ${MAX_JOBS} seeds (one run holds at most ${MAX_JOBS} jobs)`);
    return Array.from({ length: n }, (_, i) => i + 1);
  }
  return numbers('--seeds', s);
}

/** The options that define the experiment (its config.json): a preset, a --config file, flags. */
export function addConfigOptions(cmd: Command, defaultPreset: string): Command {
  const p = PRESETS[defaultPreset];
  // Defaults come from the preset (so --preset can change them): show the default preset's.
  const d = (v: unknown) => ` [${defaultPreset}: ${Array.isArray(v) ? v.join(',') : String(v)}]`;
  return cmd
    .optionsGroup('Experiment:')
    .addOption(new Option('--preset <name>', 'experiment preset').choices(PRESET_NAMES).default(defaultPreset))
    .option('--config <file>', 'a JSON file with the ExperimentConfig shape; flags override it')
    .option('--seeds <n|list>', 'number of seeds (1..n) or a comma list' + d(p.seeds))
    .option('--models <list>', `models: ${MODELS.join(',')}` + d(p.models))
    .optionsGroup('Training:')
    .option('--epochs <n>', 'training epochs' + d(p.train.epochs))
    .option('--batch-size <n>', 'training batch size' + d(p.train.batchSize))
    .option('--lr <x>', 'Adam learning rate' + d(p.train.lr))
    .option('--train-limit <n>', 'train on the first n training images' + d(p.train.limit ?? 'all'))
    .optionsGroup('Evaluation and attacks:')
    .option('--eval-split <split>', `evaluation split: ${SPLITS.join(' | ')} (the paper reports train)` + d(p.eval.split))
    .option('--eval-limit <n>', 'evaluate on the first n images of the split' + d(p.eval.limit ?? 'all'))
    .option('--eval-shards <n>', 'cut each evaluation into n jobs over slices of the split' + d(p.eval.shards))
    .option('--eval-batch-size <n>', 'evaluation batch size' + d(p.eval.batchSize))
    .option('--eps <list>', 'attack eps values, comma separated' + d(p.eps))
    .option('--eps-units <list>', `eps units: ${EPS_UNITS.join(',')}` + d(p.epsUnits))
    .option('--attacks <list>', `attacks: ${ATTACKS.filter((a) => a !== 'none').join(',')} (noise: random signs of size eps; square: the score-based Square attack; both white-box only)` + d(p.attacks))
    .option('--threats <list>', 'threat models: transfer,white-box' + d(p.threats))
    .option('--base-layer <mode>', `GlanceAgain base layer: ${BASE_LAYER.join(' | ')}` + d(p.glance.baseLayer))
    .option('--resampling <mode>', `GlanceAgain resampling: ${RESAMPLING.join(' | ')}` + d(p.glance.resampling))
    .option('--eot-samples <k>', 'EOT: transform draws averaged per gradient (Square against GlanceAgain: per query)' + d(p.eotSamples))
    .option('--pgd-steps <n>', 'PGD steps' + d(p.pgd.steps))
    .option('--pgd-restarts <r>', 'PGD random restarts; an image counts as robust only if it survives every one' + d(p.pgd.restarts))
    .option('--pgd-loss <loss>', `PGD loss: ${PGD_LOSSES.join(' | ')} (cw: Carlini-Wagner margin, dlr: AutoAttack's DLR)` + d(p.pgd.loss))
    .option('--square-queries <n>', 'Square attack: search iterations per image' + d(p.square.queries))
    .option('--attack-gradient <list>', `gradient attacks run once per mode: ${ATTACK_GRADIENTS.join(',')} (float32: the paper's numerics, which round p(label) to 1 on confident images)` + d(p.attackGradients))
    .option('--attack-limit <list>', "evaluate an attack on the first n images only, e.g. square=1000,pgd=2000 (replaces the preset's list)" + d(Object.entries(p.attackLimits).map(([a, n]) => `${a}=${n}`).join(',') || 'none'))
    .optionsGroup("AdvNet's adversarial training:")
    .option('--adv-eps <x>', "AdvNet's adversarial-training eps" + d(p.train.advEps))
    .option('--adv-mix <x>', "AdvNet's weight of the clean loss" + d(p.train.advMix))
    .option('--adv-units <list>', `the eps readings AdvNet is trained for, one AdvNet each in its own units, evaluated in that reading: ${EPS_UNITS.join(',')} (default: every --eps-units)` + d(p.train.advUnits))
    .optionsGroup('Backend and data:')
    .option('--backend <name>', `TensorFlow.js backend: ${BACKENDS.join(' | ')} (auto: node if built, else wasm)` + d(p.backend))
    .option('--dataset <name>', 'mnist | fashion-mnist' + d(p.dataset))
    .option('--data-dir <dir>', 'a directory with the four IDX files instead of --dataset');
}

/** The experiment's options and those of one run of it (where, how many threads, which slice). */
export function addExperimentOptions(cmd: Command, defaultPreset: string): Command {
  return addConfigOptions(cmd, defaultPreset)
    .optionsGroup('This run (where, how many threads, which slice, what it prints):')
    .option('--out <dir>', 'run directory (default runs/<preset>-<date>); the same --out resumes')
    .option('--workers <n>', 'worker threads', String(availableParallelism()))
    .option('--shard <i/n|auto>', 'run only the i-th of n deterministic slices of the job grid; auto (with --shards n): i from SLURM_ARRAY_TASK_ID (1-based) or JOB_COMPLETION_INDEX + 1 (Kubernetes)')
    .option('--shards <n>', 'the number of slices, with --shard auto (never taken from the engine)')
    .addOption(new Option('--stage <stage>', 'train: run only the training jobs (of the --shard slice); all: every job').choices(STAGES).default('all'))
    .option('--quiet', 'print only the summary')
    .option('--json', 'machine-readable: one versioned JSON event per line on stdout (nothing else there); messages for people on stderr')
    .option('--force-new', 'discard the stored results in --out and start afresh')
    .option('--reuse-checkpoints <dirs...>', "copy trained models from other runs' checkpoints/ when model, seed, training config and data match")
    .option('--reports <dir>', 'where the report of the run goes (in <dir>/<run-id>/)', 'reports');
}

export function buildConfig(raw: RawOptions): ExperimentConfig {
  const preset = PRESETS[raw.preset];
  if (!preset) throw errors.badOption('--preset', raw.preset, `one of ${PRESET_NAMES.join(', ')}`);
  let fromFile: Record<string, unknown> = {};
  if (raw.config) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(raw.config, 'utf8'));
    } catch (e) {
      const why = (e as NodeJS.ErrnoException).code ? FS_WHY((e as NodeJS.ErrnoException).code!) : (e as Error).message;
      throw new GlanceError('BAD_OPTION', `--config ${raw.config}: cannot read it as JSON (${why})`, 'give a JSON file with the shape of config.json in a run directory');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new GlanceError('BAD_OPTION', `--config ${raw.config}: expected a JSON object, found ${parsed === null ? 'null' : Array.isArray(parsed) ? 'an array' : typeof parsed}`, 'give a JSON file with the shape of config.json in a run directory');
    }
    // A run's config.json records its store format (and an older glance's, its seeds per training job) beside the experiment.
    const { storeFormat: _format, pack: _pack, ...experiment } = parsed as Record<string, unknown>;
    checkKnownKeys(experiment, `--config ${raw.config}`);
    fromFile = experiment;
  }
  const flags = {
    dataset: raw.dataDir ? (raw.dataset ?? raw.dataDir) : raw.dataset,
    dataDir: raw.dataDir,
    models: list(raw.models),
    seeds: seeds(raw.seeds),
    train: {
      epochs: number('--epochs', raw.epochs),
      batchSize: number('--batch-size', raw.batchSize),
      lr: number('--lr', raw.lr),
      limit: number('--train-limit', raw.trainLimit),
      advEps: number('--adv-eps', raw.advEps),
      advMix: number('--adv-mix', raw.advMix),
      advUnits: list(raw.advUnits),
    },
    glance: { baseLayer: raw.baseLayer, resampling: raw.resampling },
    eval: {
      split: raw.evalSplit,
      limit: number('--eval-limit', raw.evalLimit),
      shards: number('--eval-shards', raw.evalShards),
      batchSize: number('--eval-batch-size', raw.evalBatchSize),
    },
    attacks: list(raw.attacks),
    threats: list(raw.threats),
    eps: numbers('--eps', raw.eps),
    epsUnits: list(raw.epsUnits),
    eotSamples: number('--eot-samples', raw.eotSamples),
    pgd: { steps: number('--pgd-steps', raw.pgdSteps), restarts: number('--pgd-restarts', raw.pgdRestarts), loss: raw.pgdLoss },
    square: { queries: number('--square-queries', raw.squareQueries) },
    attackGradients: list(raw.attackGradient),
    attackLimits: attackLimits(raw.attackLimit),
    backend: raw.backend,
  };
  const merged = mergeConfig(preset as unknown as Record<string, unknown>, fromFile, flags);
  // AdvNet's readings follow the eps units unless they are given too.
  const fileTrain = fromFile.train as Record<string, unknown> | undefined;
  if ((raw.epsUnits !== undefined || fromFile.epsUnits !== undefined) && raw.advUnits === undefined && fileTrain?.advUnits === undefined) {
    merged.train = { ...(merged.train as Record<string, unknown>), advUnits: undefined };
  }
  return validateConfig(merged);
}

/** Threads per core beyond which more workers only compete for the cores. */
const THREADS_PER_CORE = 2;
/** What a worker thread holds at most (TensorFlow, a model, a batch of attacks), measured on the paper preset with room to spare. */
const WORKER_BYTES = 512 * 2 ** 20;

/** Refuses more worker threads than this machine's cores and memory can run. */
export function checkWorkers(workers: number, cores = availableParallelism(), memory = totalmem()): void {
  const byCores = THREADS_PER_CORE * cores;
  const byMemory = Math.max(1, Math.floor(memory / WORKER_BYTES));
  const max = Math.min(byCores, byMemory);
  if (workers <= max) return;
  throw errors.badOption(
    '--workers',
    workers,
    `at most ${max} on this machine (${cores} cores: more than ${byCores} threads only compete for them; ${(memory / 2 ** 30).toFixed(1)} GiB of memory: ${byMemory} workers of up to ${WORKER_BYTES >> 20} MiB each)`,
  );
}

const FS_WHY = (code: string) => (code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : code);

export function buildRunOptions(raw: RawOptions, config: ExperimentConfig): RunOptions {
  const workers = number('--workers', raw.workers) ?? availableParallelism();
  if (!Number.isInteger(workers) || workers < 1) throw errors.badOption('--workers', raw.workers, 'a positive integer');
  checkWorkers(workers);
  const date = new Date().toISOString().slice(0, 10);
  return {
    out: raw.out ?? `runs/${config.preset}-${date}`,
    workers,
    shard: resolveShard(raw.shard, raw.shards, process.env),
    ...(raw.stage === 'train' ? { stage: 'train' as const } : {}),
    quiet: !!raw.quiet,
    json: !!raw.json,
    forceNew: !!raw.forceNew,
    reuseCheckpoints: raw.reuseCheckpoints ?? [],
  };
}
