/**
 * Long-format CSV: one row per (coordinates, seed) with the shards summed, the
 * shape R, pandas and spreadsheets pivot from. Counts are kept beside the
 * accuracy so a reader can re-aggregate (for example pool seeds) without us.
 * Accuracy is written at full precision so the file round-trips exactly.
 */
import { parseString, writeToString } from 'fast-csv';
import { ATTACKS, EPS_UNITS, MODELS, SPLITS, THREATS, type EvalResult } from '../experiments/types.js';
import { compareGroups, sumShards, type GroupCoordinates, type SeedResult } from './aggregate.js';

export const CSV_COLUMNS = [
  'dataset', 'model', 'seed', 'threat', 'attack', 'source', 'eps', 'eps_units', 'split',
  'correct', 'total', 'accuracy', 'target_hits', 'backend', 'tfjs', 'tensorflow',
] as const;
type CsvColumn = (typeof CSV_COLUMNS)[number];

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
}

const distinct = (xs: Array<string | undefined>) => [...new Set(xs.filter((x): x is string => x !== undefined))].join('+');

function toRecord(s: SeedResult): Record<CsvColumn, string> {
  return {
    dataset: s.dataset, model: s.model, seed: String(s.seed), threat: s.threat, attack: s.attack,
    source: s.source ?? '', eps: String(s.eps), eps_units: s.epsUnits, split: s.split,
    correct: String(s.correct), total: String(s.total),
    accuracy: Number.isFinite(s.accuracy) ? String(s.accuracy) : '',
    target_hits: s.targetHits === undefined ? '' : String(s.targetHits),
    backend: distinct(s.backends.map((b) => b.name)),
    tfjs: distinct(s.backends.map((b) => b.tfjs)),
    tensorflow: distinct(s.backends.map((b) => b.tensorflow)),
  };
}

/** The results as CSV text (header, then one row per seed, sorted like the report). */
export function renderResultsCsv(results: readonly EvalResult[]): Promise<string> {
  const rows = sumShards(results).sort((a, b) => compareGroups(a, b) || a.seed - b.seed).map(toRecord);
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

function fromRecord(r: Record<string, string>, line: number): CsvRow {
  for (const c of CSV_COLUMNS) {
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
  if (r.target_hits !== '') row.targetHits = num(r.target_hits, 'target_hits', line, true);
  if (r.tensorflow !== '') row.tensorflow = r.tensorflow;
  return row;
}

/** Parses CSV text written by renderResultsCsv; throws with the row number on a bad value. */
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
