/**
 * Long-format CSV: one row per (coordinates, seed) with the shards summed, the
 * shape R, pandas and spreadsheets pivot from. Counts are kept beside the
 * accuracy so a reader can re-aggregate (for example pool seeds) without us.
 * Accuracy is written at full precision so the file round-trips exactly.
 *
 * Every row also carries its run's provenance (run id, commit, config hash) and
 * the settings that tell runs apart (the eps reading and AdvNet's training
 * units, the attack gradient and parameters, GlanceAgain's base layer and
 * resampling, the training and evaluation limits, dataset, backend), so the
 * CSVs of several runs can be concatenated and still be told apart and pivoted.
 */
import { parseString, writeToString } from 'fast-csv';
import type { ExperimentConfig } from '../experiments/config.js';
import { configHash } from '../experiments/config-hash.js';
import {
  ATTACK_GRADIENTS, ATTACKS, BASE_LAYER, EPS_UNITS, MODELS, PGD_LOSSES, RESAMPLING, SPLITS, THREATS,
  type AttackGradient, type BaseLayer, type EpsUnits, type EvalResult, type PgdLoss, type Resampling,
} from '../experiments/types.js';
import { compareGroups, sumShards, type GroupCoordinates, type SeedResult } from './aggregate.js';

/** The run a CSV's rows come from and its settings that are the same for every row. */
export interface CsvProvenance {
  runId: string;
  commit: string;
  configHash: string;
  epochs: number;
  trainLimit?: number;
  evalLimit?: number;
  baseLayer: BaseLayer;
  resampling: Resampling;
}

/** The provenance of a run from its directory name, the commit its meta.json recorded and its config. */
export function csvProvenance(runId: string, commit: string | undefined, config: ExperimentConfig): CsvProvenance {
  return {
    runId,
    commit: commit ?? '',
    configHash: configHash(config),
    epochs: config.train.epochs,
    ...(config.train.limit !== undefined ? { trainLimit: config.train.limit } : {}),
    ...(config.eval.limit !== undefined ? { evalLimit: config.eval.limit } : {}),
    baseLayer: config.glance.baseLayer,
    resampling: config.glance.resampling,
  };
}

export const CSV_COLUMNS = [
  'run_id', 'commit', 'config_hash',
  'dataset', 'model', 'adv_units', 'seed', 'threat', 'attack', 'source', 'gradient', 'eps', 'eps_units', 'split',
  'correct', 'total', 'accuracy', 'target_hits',
  'eot_samples', 'steps', 'step_size', 'random_start', 'target', 'restarts', 'pgd_loss', 'queries',
  'epochs', 'train_limit', 'eval_limit', 'base_layer', 'resampling',
  'backend', 'tfjs', 'tensorflow',
] as const;
type CsvColumn = (typeof CSV_COLUMNS)[number];

/** The columns a CSV of an older glance has; the others may be absent when parsing. */
const REQUIRED: readonly CsvColumn[] = [
  'dataset', 'model', 'seed', 'threat', 'attack', 'source', 'eps', 'eps_units', 'split', 'correct', 'total', 'accuracy', 'target_hits', 'backend', 'tfjs', 'tensorflow',
];

type AttackParams = NonNullable<EvalResult['attackParams']>;

/** One parsed CSV row. Backend fields are '+'-joined when a seed's shards came from several backends. */
export interface CsvRow extends GroupCoordinates {
  seed: number;
  correct: number;
  total: number;
  accuracy: number;
  targetHits?: number;
  backend: string;
  tfjs: string;
  tensorflow?: string;
  attackParams?: AttackParams;
  provenance?: Partial<CsvProvenance>;
}

const distinct = (xs: Array<string | undefined>) => [...new Set(xs.filter((x): x is string => x !== undefined))].join('+');
const str = (x: number | boolean | string | undefined) => (x === undefined ? '' : String(x));

function toRecord(s: SeedResult, p: Partial<CsvProvenance>): Record<CsvColumn, string> {
  const a = s.attackParams;
  return {
    run_id: str(p.runId), commit: str(p.commit), config_hash: str(p.configHash),
    dataset: s.dataset, model: s.model, adv_units: str(s.advUnits), seed: String(s.seed), threat: s.threat, attack: s.attack,
    source: s.source ?? '', gradient: str(s.gradient), eps: String(s.eps), eps_units: s.epsUnits, split: s.split,
    correct: String(s.correct), total: String(s.total),
    accuracy: Number.isFinite(s.accuracy) ? String(s.accuracy) : '',
    target_hits: str(s.targetHits),
    eot_samples: str(a?.eotSamples), steps: str(a?.steps), step_size: str(a?.stepSize), random_start: str(a?.randomStart),
    target: str(a?.target), restarts: str(a?.restarts), pgd_loss: str(a?.loss), queries: str(a?.queries),
    epochs: str(p.epochs), train_limit: str(p.trainLimit), eval_limit: str(p.evalLimit), base_layer: str(p.baseLayer), resampling: str(p.resampling),
    backend: distinct(s.backends.map((b) => b.name)),
    tfjs: distinct(s.backends.map((b) => b.tfjs)),
    tensorflow: distinct(s.backends.map((b) => b.tensorflow)),
  };
}

/** The results as CSV text (header, then one row per seed, sorted like the report), each row with the run's provenance. */
export function renderResultsCsv(results: readonly EvalResult[], provenance: Partial<CsvProvenance> = {}): Promise<string> {
  const rows = sumShards(results).sort((a, b) => compareGroups(a, b) || a.seed - b.seed).map((s) => toRecord(s, provenance));
  return writeToString(rows, { headers: [...CSV_COLUMNS], alwaysWriteHeaders: true, includeEndRowDelimiter: true });
}

function oneOf<T extends string>(allowed: readonly T[], value: string, column: string, line: number): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new Error(`results CSV line ${line}: ${column} must be one of ${allowed.join(', ')}, got "${value}"`);
}

function num(value: string, column: string, line: number, integer: boolean): number {
  const x = Number(value);
  if (value.trim() === '' || !Number.isFinite(x) || (integer && !Number.isInteger(x))) {
    throw new Error(`results CSV line ${line}: ${column} must be ${integer ? 'an integer' : 'a number'}, got "${value}"`);
  }
  return x;
}

/** The attack parameters of a row, when it has them (the first five are always written together). */
function attackParamsOf(r: Record<string, string>, line: number): AttackParams | undefined {
  if (!r.eot_samples) return undefined;
  const a: AttackParams = {
    eotSamples: num(r.eot_samples, 'eot_samples', line, true),
    steps: num(r.steps, 'steps', line, true),
    stepSize: num(r.step_size, 'step_size', line, false),
    randomStart: oneOf(['true', 'false'], r.random_start, 'random_start', line) === 'true',
    target: r.target,
  };
  if (r.restarts) a.restarts = num(r.restarts, 'restarts', line, true);
  if (r.pgd_loss) a.loss = oneOf<PgdLoss>(PGD_LOSSES, r.pgd_loss, 'pgd_loss', line);
  if (r.queries) a.queries = num(r.queries, 'queries', line, true);
  return a;
}

function provenanceOf(r: Record<string, string>, line: number): Partial<CsvProvenance> | undefined {
  const p: Partial<CsvProvenance> = {};
  if (r.run_id) p.runId = r.run_id;
  if (r.commit) p.commit = r.commit;
  if (r.config_hash) p.configHash = r.config_hash;
  if (r.epochs) p.epochs = num(r.epochs, 'epochs', line, true);
  if (r.train_limit) p.trainLimit = num(r.train_limit, 'train_limit', line, true);
  if (r.eval_limit) p.evalLimit = num(r.eval_limit, 'eval_limit', line, true);
  if (r.base_layer) p.baseLayer = oneOf(BASE_LAYER, r.base_layer, 'base_layer', line);
  if (r.resampling) p.resampling = oneOf(RESAMPLING, r.resampling, 'resampling', line);
  return Object.keys(p).length ? p : undefined;
}

function fromRecord(r: Record<string, string>, line: number): CsvRow {
  for (const c of REQUIRED) {
    if (r[c] === undefined) throw new Error(`results CSV: column "${c}" is missing`);
  }
  const row: CsvRow = {
    dataset: r.dataset,
    model: oneOf(MODELS, r.model, 'model', line),
    seed: num(r.seed, 'seed', line, true),
    threat: oneOf(THREATS, r.threat, 'threat', line),
    attack: oneOf(ATTACKS, r.attack, 'attack', line),
    eps: num(r.eps, 'eps', line, false),
    epsUnits: oneOf(EPS_UNITS, r.eps_units, 'eps_units', line),
    split: oneOf(SPLITS, r.split, 'split', line),
    correct: num(r.correct, 'correct', line, true),
    total: num(r.total, 'total', line, true),
    accuracy: r.accuracy === '' ? NaN : num(r.accuracy, 'accuracy', line, false),
    backend: r.backend,
    tfjs: r.tfjs,
  };
  if (r.source !== '') row.source = oneOf(MODELS, r.source, 'source', line);
  if (r.adv_units) row.advUnits = oneOf<EpsUnits>(EPS_UNITS, r.adv_units, 'adv_units', line);
  if (r.gradient) row.gradient = oneOf<AttackGradient>(ATTACK_GRADIENTS, r.gradient, 'gradient', line);
  if (r.target_hits !== '') row.targetHits = num(r.target_hits, 'target_hits', line, true);
  if (r.tensorflow !== '') row.tensorflow = r.tensorflow;
  const attackParams = attackParamsOf(r, line);
  if (attackParams) row.attackParams = attackParams;
  const provenance = provenanceOf(r, line);
  if (provenance) row.provenance = provenance;
  return row;
}

/**
 * Parses CSV text written by renderResultsCsv (of this glance or an older one, whose
 * CSVs lack the provenance columns); throws with the row number on a bad value.
 */
export function parseResultsCsv(text: string): Promise<CsvRow[]> {
  return new Promise((resolve, reject) => {
    const rows: CsvRow[] = [];
    let line = 1;
    let failed = false;
    const stream = parseString<Record<string, string>, Record<string, string>>(text, { headers: true });
    stream
      .on('data', (r: Record<string, string>) => {
        line += 1;
        if (failed) return;
        try {
          rows.push(fromRecord(r, line));
        } catch (e) {
          failed = true;
          reject(e);
        }
      })
      .on('error', (e: Error) => reject(new Error(`results CSV: ${e.message}`)))
      .on('end', () => resolve(rows));
  });
}
