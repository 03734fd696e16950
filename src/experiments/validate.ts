/**
 * Checks an experiment config once, at the CLI, with a message that names the
 * option, what was expected and what was found. Pure.
 */
import { errors } from '../errors.js';
import type { ExperimentConfig } from './config.js';
import { baseSource, netSpec } from './models.js';
import { ATTACK_GRADIENTS, ATTACKS, type AttackName, BACKENDS, PGD_LOSSES, BASE_LAYER, EPS_UNITS, MODELS, RESAMPLING, SPLITS, type EpsUnits } from './types.js';

type Obj = Record<string, unknown>;

function oneOf<T extends string>(option: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    throw errors.badOption(option, value, `one of ${allowed.join(', ')}`);
  }
  return value as T;
}

function listOf<T extends string>(option: string, value: unknown, allowed: readonly T[]): T[] {
  if (!Array.isArray(value) || value.length === 0) throw errors.badOption(option, value, `a non-empty list of ${allowed.join(', ')}`);
  const out = value.map((v) => oneOf(option, v, allowed));
  return [...new Set(out)];
}

function num(option: string, value: unknown, check: (n: number) => boolean, expected: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || !check(value)) throw errors.badOption(option, value, expected);
  return value;
}

const positiveInt = (option: string, value: unknown) =>
  num(option, value, (n) => Number.isInteger(n) && n > 0, 'a positive integer');

function optionalLimit(option: string, value: unknown): number | undefined {
  return value === undefined || value === null ? undefined : positiveInt(option, value);
}

function obj(option: string, value: unknown): Obj {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw errors.badOption(option, value, 'an object');
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
  const train = obj('train', c.train);
  const glance = obj('glance', c.glance);
  const ev = obj('eval', c.eval);
  const pgd = obj('pgd', c.pgd);
  if (!Array.isArray(c.seeds) || c.seeds.length === 0) throw errors.badOption('seeds', c.seeds, 'at least one seed');
  const seeds = c.seeds.map((s) => num('seeds', s, (n) => Number.isInteger(n) && n >= 0, 'non-negative integer seeds'));
  if (new Set(seeds).size !== seeds.length) throw errors.badOption('seeds', c.seeds, 'distinct seeds');
  if (!Array.isArray(c.eps) || c.eps.length === 0) throw errors.badOption('eps', c.eps, 'a non-empty list of eps >= 0');
  const eps = [...new Set(c.eps.map((e) => num('eps', e, (n) => n >= 0 && n <= 1, 'eps between 0 and 1')))].sort((a, b) => a - b);
  const models = listOf('models', c.models, MODELS);
  const threats = listOf('threats', c.threats, ['transfer', 'white-box'] as const);
  const transferSource = oneOf('transfer-source', c.transferSource, MODELS);
  const attacks = listOf('attacks', c.attacks, ATTACKS.filter((a) => a !== 'none'));
  const epsUnits = listOf('eps-units', c.epsUnits, EPS_UNITS);
  const limitEval = optionalLimit('eval.limit', ev.limit);
  const shards = positiveInt('eval.shards', ev.shards);
  if (limitEval !== undefined && shards > limitEval) throw errors.badOption('eval.shards', shards, `at most eval.limit (${limitEval})`);
  const config: ExperimentConfig = {
    preset: typeof c.preset === 'string' ? c.preset : 'custom',
    dataset: typeof c.dataset === 'string' && c.dataset ? c.dataset : (() => { throw errors.badOption('dataset', c.dataset, 'a dataset name'); })(),
    models,
    seeds,
    train: {
      epochs: positiveInt('epochs', train.epochs),
      batchSize: positiveInt('batch-size', train.batchSize),
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
    eval: { split: oneOf('eval-split', ev.split, SPLITS), limit: limitEval, batchSize: positiveInt('eval-batch-size', ev.batchSize), shards },
    attacks,
    threats,
    transferSource,
    eps,
    epsUnits,
    eotSamples: positiveInt('eot-samples', c.eotSamples),
    pgd: {
      steps: positiveInt('pgd-steps', pgd.steps),
      randomStart: pgd.randomStart !== false,
      restarts: positiveInt('pgd-restarts', pgd.restarts ?? 1),
      loss: oneOf('pgd-loss', pgd.loss ?? 'ce', PGD_LOSSES),
    },
    square: { queries: positiveInt('square-queries', obj('square', c.square ?? {}).queries ?? 1000) },
    attackGradients: listOf('attack-gradient', c.attackGradients ?? ['stable'], ATTACK_GRADIENTS),
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
  if (threats.includes('transfer') && !models.includes(transferSource)) {
    throw errors.badOption('transfer-source', transferSource, `one of the trained models (${models.join(', ')}): transfer attacks are crafted on it`);
  }
  return config;
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
