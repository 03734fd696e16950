/**
 * A short hash of what an experiment computes: every field of its config that
 * can change a result, in a canonical order. Stored with each results line and
 * in results.csv, so lines of another experiment are recognised and CSVs of
 * several runs can be told apart after concatenation. The backend is left out
 * (each result records its own) and so is the preset name (a label).
 * Pure: no tfjs.
 */
import { createHash } from 'node:crypto';
import type { ExperimentConfig } from './config.js';

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

export function configHash(config: ExperimentConfig): string {
  const { backend: _backend, preset: _preset, dataDir: _dataDir, ...rest } = config;
  return createHash('sha256').update(JSON.stringify(canonical(rest))).digest('hex').slice(0, 12);
}
