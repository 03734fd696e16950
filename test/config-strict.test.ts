/**
 * Config files and flags are checked strictly, with the key's path and the flag
 * in the message: unknown keys, wrong types, a file that is not an object, sizes
 * no run can hold (a grid of millions of jobs, a batch larger than any split,
 * seeds that collide in the generator, more workers than the machine runs).
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildConfig, checkWorkers } from '../src/cli/experiment-options.js';
import { GlanceError } from '../src/errors.js';
import { MAX_BATCH, MAX_JOBS, MAX_SEED, checkKnownKeys, validateConfig } from '../src/experiments/validate.js';
import { PRESETS } from '../src/experiments/presets.js';
import { buildJobs } from '../src/experiments/grid.js';

const dir = mkdtempSync(join(tmpdir(), 'glance-strict-'));
const file = (name: string, text: string) => {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
};

function refusal(fn: () => unknown): GlanceError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(GlanceError);
    expect((e as GlanceError).code).toBe('BAD_OPTION');
    return e as GlanceError;
  }
  throw new Error('expected a refusal');
}

describe('config files', () => {
  it('refuses an unknown key with its path and the nearest known key', () => {
    const e = refusal(() => buildConfig({ preset: 'smoke', config: file('typo.json', '{"train": {"epocs": 3}}') }));
    expect(e.message).toMatch(/--config .*typo.json: unknown key train.epocs \(did you mean train.epochs\?\)/);
    expect(e.suggestion).toMatch(/the keys of train are epochs, batchSize, lr/);
    expect(refusal(() => buildConfig({ preset: 'smoke', config: file('top.json', '{"sedes": [1]}') })).message).toMatch(/unknown key sedes \(did you mean seeds\?\)/);
    expect(refusal(() => buildConfig({ preset: 'smoke', config: file('far.json', '{"colour": "red"}') })).message).toMatch(/unknown key colour$/);
  });

  it('refuses a file that is not an object, naming what it is', () => {
    for (const [text, what] of [['null', 'null'], ['[1, 2]', 'an array'], ['3', 'number'], ['"x"', 'string']]) {
      expect(refusal(() => buildConfig({ preset: 'smoke', config: file('not-object.json', text) })).message).toMatch(new RegExp(`expected a JSON object, found ${what}$`));
    }
    expect(refusal(() => buildConfig({ preset: 'smoke', config: join(dir, 'absent.json') })).message).toMatch(/absent.json: cannot read it as JSON \(no such file\)/);
  });

  it('names the key path and the flag of a value of the wrong type or out of range', () => {
    expect(refusal(() => buildConfig({ preset: 'smoke', config: file('type.json', '{"train": {"epochs": "3"}}') })).message).toBe(
      'train.epochs / --epochs: expected a positive integer, got "3"',
    );
    expect(refusal(() => buildConfig({ preset: 'smoke', config: file('range.json', '{"eval": {"split": "validation"}}') })).message).toMatch(/^eval.split \/ --eval-split: expected one of train, test/);
    expect(refusal(() => buildConfig({ preset: 'smoke', config: file('obj.json', '{"train": null}') })).message).toBe(`--config ${join(dir, 'obj.json')}: train: expected an object, got null`);
  });

  it("takes a run's config.json as it is stored (its storeFormat beside the experiment)", () => {
    const stored = { storeFormat: 2, ...PRESETS.smoke };
    expect(buildConfig({ preset: 'paper', config: file('stored.json', JSON.stringify(stored)) })).toEqual(validateConfig(PRESETS.smoke));
  });

  it('checkKnownKeys leaves attack limits open (their keys are attacks) and knows optional keys', () => {
    expect(() => checkKnownKeys({ attackLimits: { pgd: 10 }, dataDir: 'x', train: { limit: 5 }, eval: { limit: 5 } }, 'here')).not.toThrow();
  });
});

describe('sizes', () => {
  it('refuses a batch larger than any split, naming the option', () => {
    expect(refusal(() => buildConfig({ preset: 'smoke', batchSize: '1e15' })).message).toBe(`train.batchSize / --batch-size: expected at most ${MAX_BATCH} (more than any split holds), got 1000000000000000`);
    expect(refusal(() => buildConfig({ preset: 'smoke', evalBatchSize: '70000' })).message).toMatch(/^eval.batchSize \/ --eval-batch-size: expected at most/);
    expect(buildConfig({ preset: 'smoke', batchSize: String(MAX_BATCH) }).train.batchSize).toBe(MAX_BATCH);
  });

  it('refuses a grid larger than a run holds, before building it', () => {
    const perSeed = buildJobs({ ...PRESETS.paper, seeds: [1] }, 10_000).length;
    const e = refusal(() => buildConfig({ preset: 'paper', seeds: '100000' }));
    expect(e.message).toBe(`the experiment has ${(perSeed * 100_000).toLocaleString('en-US')} jobs (100000 seeds x ${perSeed} jobs each); one run holds at most ${MAX_JOBS.toLocaleString('en-US')}`);
    expect(e.suggestion).toMatch(/glance merge/);
    expect(refusal(() => buildConfig({ preset: 'paper', seeds: '1000000000000' })).message).toMatch(/^--seeds: expected at most 200000 seeds/);
    const most = Math.floor(MAX_JOBS / perSeed);
    expect(buildConfig({ preset: 'paper', seeds: String(most) }).seeds).toHaveLength(most);
  });

  it('refuses seeds the generator takes modulo 2^32, so no two seeds train the same model', () => {
    expect(refusal(() => buildConfig({ preset: 'smoke', seeds: `${2 ** 32 + 1},1` })).message).toMatch(/^seeds \/ --seeds: expected integer seeds from 0 to 4294967295 \(the generator takes seeds modulo 2\^32/);
    expect(buildConfig({ preset: 'smoke', seeds: `0,${MAX_SEED}` }).seeds).toEqual([0, MAX_SEED]);
  });

  it('refuses more workers than the cores and memory run, saying the limit and why', () => {
    expect(() => checkWorkers(4, 2, 24 * 2 ** 30)).not.toThrow();
    const e = refusal(() => checkWorkers(999, 2, 24 * 2 ** 30));
    expect(e.message).toMatch(/^--workers: expected at most 4 on this machine \(2 cores: more than 4 threads only compete for them; 24.0 GiB of memory: 48 workers/);
    expect(refusal(() => checkWorkers(8, 64, 2 * 2 ** 30)).message).toMatch(/at most 4 on this machine .*2.0 GiB of memory: 4 workers of up to 512 MiB each/);
  });
});
