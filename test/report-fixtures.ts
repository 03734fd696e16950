/** Small builders of EvalResult lines for the report tests. */
import type { EvalResult } from '../src/experiments/types.js';

const BACKEND = { name: 'node', tfjs: '4.22.0', tensorflow: '2.21.0' } as const;

/** An eval result with defaults: mnist, pixel eps, test split, one shard of 1000. */
export function result(over: Partial<EvalResult>): EvalResult {
  return {
    kind: 'eval',
    dataset: 'mnist',
    model: 'NormalNet',
    seed: 1,
    threat: 'clean',
    attack: 'none',
    eps: 0,
    epsUnits: 'pixel',
    split: 'test',
    start: 0,
    end: 1000,
    correct: 0,
    total: 1000,
    backend: { ...BACKEND },
    seconds: 1,
    ...over,
  };
}

/** One result per seed with the given correct counts out of 1000. */
export function seeds(over: Partial<EvalResult>, corrects: number[]): EvalResult[] {
  return corrects.map((correct, i) => result({ ...over, seed: i + 1, correct }));
}
