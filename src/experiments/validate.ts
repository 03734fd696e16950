/**
 * Checks an experiment config once, at the CLI, with a message that names the
 * option (its key path in a config file and its flag), what was expected and what
 * was found. Strict: a key no preset has (a typo such as train.epocs) is an error,
 * not silently ignored; sizes are bounded before anything starts (a batch larger
 * than any split, seeds that collide in the generator, a grid too large to hold).
 * Pure.
 */
import { GlanceError, errors } from '../errors.js';
import type { ExperimentConfig } from './config.js';
import { buildJobs } from './grid.js';
import { PRESETS } from './presets.js';
import { baseSource, netSpec } from './models.js';
import { ATTACK_GRADIENTS, ATTACKS, type AttackName, BACKENDS, PGD_LOSSES, BASE_LAYER, EPS_UNITS, MODELS, RESAMPLING, SPLITS, type EpsUnits } from './types.js';

type Obj = Record<string, unknown>;

/** The flags' names in messages, with the key path a config file uses. */
const PATHS: Record<string, string> = {
  epochs: 'train.epochs',
  'batch-size': 'train.batchSize',
  lr: 'train.lr',
  'train-limit': 'train.limit',
  'adv-eps': 'train.advEps',
  'adv-units': 'train.advUnits',
  'adv-mix': 'train.advMix',
  'base-layer': 'glance.baseLayer',
  resampling: 'glance.resampling',
  'eval-split': 'eval.split',
  'eval-batch-size': 'eval.batchSize',
  'eval-limit': 'eval.limit',
  'eval-shards': 'eval.shards',
  'eot-samples': 'eotSamples',
  'pgd-steps': 'pgd.steps',
  'pgd-restarts': 'pgd.restarts',
  'pgd-loss': 'pgd.loss',
  'square-queries': 'square.queries',
  'attack-gradient': 'attackGradients',
  'attack-limit': 'attackLimits',
  'eps-units': 'epsUnits',
  seeds: 'seeds',
  eps: 'eps',
  models: 'models',
  threats: 'threats',
  attacks: 'attacks',
  backend: 'backend',
  dataset: 'dataset',
};

/** "train.batchSize / --batch-size" for a flag's name; other names (config keys without a flag) as given. */
const label = (option: string) => {
  const [flag, ...rest] = option.split(' ');
  return PATHS[flag] ? [`${PATHS[flag]} / --${flag}`, ...rest].join(' ') : option;
};

/** The largest batch: more than any split holds (60,000), so a larger one is a mistake, not a need. */
export const MAX_BATCH = 65_536;
/** Seeds are taken modulo 2^32 by the generator (paper/rng.ts): larger ones would collide with smaller ones. */
export const MAX_SEED = 2 ** 32 - 1;
/** The most jobs one run holds; its job list and store stay well within memory (~100 MB) and start in seconds. */
export const MAX_JOBS = 200_000;

function oneOf<T extends string>(option: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    throw errors.badOption(label(option), value, `one of ${allowed.join(', ')}`);
  }
  return value as T;
}

function listOf<T extends string>(option: string, value: unknown, allowed: readonly T[]): T[] {
  if (!Array.isArray(value) || value.length === 0) throw errors.badOption(label(option), value, `a non-empty list of ${allowed.join(', ')}`);
  const out = value.map((v) => oneOf(option, v, allowed));
  return [...new Set(out)];
}

function num(option: string, value: unknown, check: (n: number) => boolean, expected: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || !check(value)) throw errors.badOption(label(option), value, expected);
  return value;
}

function positiveInt(option: string, value: unknown, max = Number.MAX_SAFE_INTEGER, why = ''): number {
  const n = num(option, value, (x) => Number.isInteger(x) && x > 0, 'a positive integer');
  if (n > max) throw errors.badOption(label(option), value, `at most ${max}${why}`);
  return n;
}
const batch = (option: string, value: unknown) => positiveInt(option, value, MAX_BATCH, ' (more than any split holds)');

function optionalLimit(option: string, value: unknown): number | undefined {
  return value === undefined || value === null ? undefined : positiveInt(option, value);
}

function obj(option: string, value: unknown): Obj {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw errors.badOption(label(option), value, 'an object');
  return value as Obj;
}

/**
 * The eps readings AdvNet is trained for (readings.ts): by default every eps unit
 * of the run; one unit (a config.json of an older glance) is a list of one. Each
 * must be an eps unit of the run, since an AdvNet is evaluated in its own reading.
 */
function advReadings(value: unknown, epsUnits: EpsUnits[]): EpsUnits[] {
  if (value === undefined || value === null) return [...epsUnits];
  const units = listOf('adv-units', typeof value === 'string' ? [value] : value, EPS_UNITS);
  const outside = units.filter((u) => !epsUnits.includes(u));
  if (outside.length) {
    throw errors.badOption('adv-units', units, `units among the eps units (${epsUnits.join(', ')}): an AdvNet trained in ${outside.join(', ')} units is evaluated in that reading, so add it to --eps-units`);
  }
  return EPS_UNITS.filter((u) => units.includes(u));
}

/** { attack: n }: every key an attack other than 'none', every n a positive integer. */
function attackLimits(value: unknown): Partial<Record<AttackName, number>> {
  const limits = obj('attack-limit', value);
  const out: Partial<Record<AttackName, number>> = {};
  for (const [attack, n] of Object.entries(limits)) {
    out[oneOf('attack-limit', attack, ATTACKS.filter((a) => a !== 'none'))] = positiveInt(`attack-limit ${attack}`, n);
  }
  return out;
}

export function validateConfig(raw: unknown): ExperimentConfig {
  const c = obj('config', raw);
  checkKnownKeys(c, 'config');
  const train = obj('train', c.train);
  const glance = obj('glance', c.glance);
  const ev = obj('eval', c.eval);
  const pgd = obj('pgd', c.pgd);
  if (!Array.isArray(c.seeds) || c.seeds.length === 0) throw errors.badOption('seeds', c.seeds, 'at least one seed');
  const seeds = c.seeds.map((s) =>
    num('seeds', s, (n) => Number.isInteger(n) && n >= 0 && n <= MAX_SEED, `integer seeds from 0 to ${MAX_SEED} (the generator takes seeds modulo 2^32, so a larger one trains the same model as a smaller one)`),
  );
  if (new Set(seeds).size !== seeds.length) throw errors.badOption('seeds', c.seeds, 'distinct seeds');
  if (!Array.isArray(c.eps) || c.eps.length === 0) throw errors.badOption('eps', c.eps, 'a non-empty list of eps >= 0');
  const eps = [...new Set(c.eps.map((e) => num('eps', e, (n) => n >= 0 && n <= 1, 'eps between 0 and 1')))].sort((a, b) => a - b);
  const models = listOf('models', c.models, MODELS);
  const threats = listOf('threats', c.threats, ['transfer', 'white-box'] as const);
  const transferSource = oneOf('transfer-source', c.transferSource, MODELS);
  const attacks = listOf('attacks', c.attacks, ATTACKS.filter((a) => a !== 'none'));
  const epsUnits = listOf('eps-units', c.epsUnits, EPS_UNITS);
  const limitEval = optionalLimit('eval-limit', ev.limit);
  const shards = positiveInt('eval-shards', ev.shards, 10_000);
  if (limitEval !== undefined && shards > limitEval) throw errors.badOption(label('eval-shards'), shards, `at most eval.limit (${limitEval})`);
  const config: ExperimentConfig = {
    preset: typeof c.preset === 'string' ? c.preset : 'custom',
    dataset: typeof c.dataset === 'string' && c.dataset ? c.dataset : (() => { throw errors.badOption('dataset', c.dataset, 'a dataset name'); })(),
    models,
    seeds,
    train: {
      epochs: positiveInt('epochs', train.epochs, 10_000),
      batchSize: batch('batch-size', train.batchSize),
      lr: num('lr', train.lr, (n) => n > 0, 'a learning rate > 0'),
      limit: optionalLimit('train-limit', train.limit),
      advEps: num('adv-eps', train.advEps, (n) => n >= 0 && n <= 1, 'eps between 0 and 1'),
      advUnits: advReadings(train.advUnits, epsUnits),
      advMix: num('adv-mix', train.advMix, (n) => n >= 0 && n <= 1, 'a mix between 0 and 1'),
    },
    glance: {
      baseLayer: oneOf('base-layer', glance.baseLayer, BASE_LAYER),
      resampling: oneOf('resampling', glance.resampling, RESAMPLING),
    },
    eval: { split: oneOf('eval-split', ev.split, SPLITS), limit: limitEval, batchSize: batch('eval-batch-size', ev.batchSize), shards },
    attacks,
    threats,
    transferSource,
    eps,
    epsUnits,
    eotSamples: positiveInt('eot-samples', c.eotSamples, 10_000),
    pgd: {
      steps: positiveInt('pgd-steps', pgd.steps, 100_000),
      randomStart: pgd.randomStart !== false,
      restarts: positiveInt('pgd-restarts', pgd.restarts ?? 1),
      loss: oneOf('pgd-loss', pgd.loss ?? 'ce', PGD_LOSSES),
    },
    square: { queries: positiveInt('square-queries', obj('square', c.square ?? {}).queries ?? 1000) },
    // Absent: a config of an older glance (float32 gradients, ids without a mode); presets always name them.
    ...(c.attackGradients === undefined ? {} : { attackGradients: listOf('attack-gradient', c.attackGradients, ATTACK_GRADIENTS) }),
    attackLimits: attackLimits(c.attackLimits ?? {}),
    backend: oneOf('backend', c.backend, BACKENDS),
  };
  if (typeof c.dataDir === 'string' && c.dataDir) config.dataDir = c.dataDir;
  if (config.train.limit === undefined) delete config.train.limit;
  if (config.eval.limit === undefined) delete config.eval.limit;
  for (const model of models) {
    const base = baseSource(netSpec(model, config));
    if (base && !models.includes(base)) {
      throw errors.badOption('models', models, `${base} too: ${model}'s ${config.glance.baseLayer} base layer comes from ${base} (or --base-layer scratch)`);
    }
  }
  const ownModel = attacks.filter((a) => a === 'noise' || a === 'square');
  if (ownModel.length && !threats.includes('white-box')) {
    throw errors.badOption('threats', threats, `white-box among them: ${ownModel.join(' and ')} attack the model itself and run under the white-box threat only`);
  }
  if (threats.includes('transfer') && !models.includes(transferSource)) {
    throw errors.badOption('transfer-source', transferSource, `one of the trained models (${models.join(', ')}): transfer attacks are crafted on it`);
  }
  checkGridSize(config);
  return config;
}

/** Refuses a grid too large to hold, before a job list of it is built (the grid is the same for every seed). */
function checkGridSize(config: ExperimentConfig): void {
  const perSeed = buildJobs({ ...config, seeds: [config.seeds[0]] }, config.eval.limit ?? 60_000).length;
  const total = perSeed * config.seeds.length;
  if (total <= MAX_JOBS) return;
  throw new GlanceError(
    'BAD_OPTION',
    `the experiment has ${total.toLocaleString('en-US')} jobs (${config.seeds.length} seeds x ${perSeed} jobs each); one run holds at most ${MAX_JOBS.toLocaleString('en-US')}`,
    `use fewer seeds (--seeds), eps units, attacks or --eval-shards, or split the seeds over several runs (--seeds 1,2,...) and join them with glance merge`,
  );
}

/** Every key path of the presets: the keys a config may have. Maps (attackLimits) are open; optional keys no preset sets are added. */
function knownShape(): Obj {
  const shape = mergeConfig(...Object.values(PRESETS).map((p) => p as unknown as Obj), { dataDir: '', train: { limit: 0 }, eval: { limit: 0 } });
  return shape;
}

function closest(key: string, known: string[]): string | undefined {
  const dist = (a: string, b: string) => {
    const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) d[0][j] = j;
    for (let i = 1; i <= a.length; i++) for (let j = 1; j <= b.length; j++) d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
    return d[a.length][b.length];
  };
  const best = known.map((k) => [k, dist(key, k)] as const).sort((x, y) => x[1] - y[1])[0];
  return best && best[1] <= Math.max(2, Math.floor(key.length / 3)) ? best[0] : undefined;
}

/**
 * The key paths of `layer` that no config has (`train.epocs`), each with the
 * nearest known key; `where` names the layer in the message ("--config FILE").
 */
export function checkKnownKeys(layer: Obj, where: string, shape: Obj = knownShape(), path = ''): void {
  for (const [k, v] of Object.entries(layer)) {
    const at = path ? `${path}.${k}` : k;
    if (!(k in shape)) {
      const near = closest(k, Object.keys(shape));
      throw new GlanceError(
        'BAD_OPTION',
        `${where}: unknown key ${at}${near ? ` (did you mean ${path ? `${path}.` : ''}${near}?)` : ''}`,
        `the keys of ${path || 'a config'} are ${Object.keys(shape).join(', ')} (glance reproduce --help lists them as flags)`,
      );
    }
    const sub = shape[k];
    const isObj = (x: unknown) => typeof x === 'object' && x !== null && !Array.isArray(x);
    if (!isObj(sub)) continue;
    // A section given as anything but an object would be replaced by the flags' layer unnoticed.
    if (!isObj(v)) throw errors.badOption(`${where}: ${at}`, v, 'an object');
    if (!REPLACED_WHOLE.has(k)) checkKnownKeys(v as Obj, where, sub as Obj, at);
  }
}

/** Objects replaced whole, like arrays: a later layer's attack limits are the limits, not added to the preset's. */
const REPLACED_WHOLE = new Set(['attackLimits']);

/** Deep merge of plain objects: later layers win, arrays (and REPLACED_WHOLE objects) are replaced whole. */
export function mergeConfig(...layers: Obj[]): Obj {
  const out: Obj = {};
  for (const layer of layers) {
    for (const [k, v] of Object.entries(layer)) {
      if (v === undefined) continue;
      const prev = out[k];
      out[k] =
        !REPLACED_WHOLE.has(k) && typeof v === 'object' && v !== null && !Array.isArray(v) && typeof prev === 'object' && prev !== null && !Array.isArray(prev)
          ? mergeConfig(prev as Obj, v as Obj)
          : v;
    }
  }
  return out;
}

/** Parses "i/n" (1-based) for --shard. */
export function parseShard(text: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index < 1 || index > count) throw errors.badOption('--shard', text, 'i/n with 1 <= i <= n, e.g. 1/4');
  return { index, count };
}
