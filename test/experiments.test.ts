import { describe, it, expect } from 'vitest';
import { PRESETS } from '../src/experiments/presets.js';
import { buildJobs, shardJobs, trainId } from '../src/experiments/grid.js';
import { mergeConfig, parseShard, validateConfig } from '../src/experiments/validate.js';
import { buildConfig } from '../src/cli/experiment-options.js';
import { GlanceError } from '../src/errors.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const badOption = (fn: () => unknown, pattern: RegExp) => {
  expect(fn).toThrow(GlanceError);
  expect(fn).toThrow(pattern);
};

describe('presets and validation', () => {
  it('every preset validates to itself', () => {
    for (const p of Object.values(PRESETS)) expect(validateConfig(p)).toEqual(p);
  });

  it('the paper preset is 5 seeds, eps 0.3, both units, transfer + white-box FGSM and EOT', () => {
    const p = PRESETS.paper;
    expect(p.seeds).toEqual([1, 2, 3, 4, 5]);
    expect(p.eps).toEqual([0.3]);
    expect(p.epsUnits).toEqual(['pixel', 'normalized']);
    expect(p.attacks).toEqual(['fgsm', 'eot-fgsm']);
    expect(p.threats).toEqual(['transfer', 'white-box']);
    expect(p.train).toMatchObject({ epochs: 15, batchSize: 64, lr: 1e-3 });
  });

  it('refuses bad values with the option, what was expected and what was found', () => {
    badOption(() => buildConfig({ preset: 'paper', eps: '-0.1' }), /eps: expected eps between 0 and 1, got -0.1/);
    badOption(() => buildConfig({ preset: 'paper', seeds: '0' }), /--seeds: expected a count >= 1/);
    badOption(() => buildConfig({ preset: 'paper', models: 'NormalNet,ResNet' }), /models: expected one of NormalNet, AdvNet, GlanceAgain, got "ResNet"/);
    badOption(() => buildConfig({ preset: 'paper', attacks: 'cw' }), /attacks: expected one of fgsm, fgsm-targeted/);
    badOption(() => buildConfig({ preset: 'paper', epochs: 'many' }), /--epochs: expected a number, got "many"/);
    badOption(() => buildConfig({ preset: 'nope' }), /--preset: expected one of paper, sweep, smoke/);
    badOption(() => buildConfig({ preset: 'paper', models: 'GlanceAgain' }), /NormalNet too/);
    badOption(() => parseShard('3/2'), /--shard: expected i\/n with 1 <= i <= n, e.g. 1\/4, got "3\/2"/);
    badOption(() => parseShard('0/2'), /--shard/);
    expect(parseShard('2/3')).toEqual({ index: 2, count: 3 });
  });

  it('flags override the preset, and --seeds n means 1..n', () => {
    const c = buildConfig({ preset: 'smoke', seeds: '3', eps: '0.2,0.1', epochs: '2' });
    expect(c.seeds).toEqual([1, 2, 3]);
    expect(c.eps).toEqual([0.1, 0.2]);
    expect(c.train.epochs).toBe(2);
    expect(c.train.limit).toBe(PRESETS.smoke.train.limit);
    expect(buildConfig({ preset: 'paper', advUnits: 'normalized' }).train.advUnits).toBe('normalized');
    badOption(() => buildConfig({ preset: 'paper', advUnits: 'meters' }), /adv-units: expected one of pixel, normalized/);
    expect(mergeConfig({ a: { b: 1, c: 2 } }, { a: { c: 3 } })).toEqual({ a: { b: 1, c: 3 } });
  });
});

describe('--config FILE', () => {
  it('loads the config shape from a file; flags override it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'glance-config-'));
    const file = join(dir, 'exp.json');
    writeFileSync(file, JSON.stringify({ seeds: [3, 4], eps: [0.2], train: { epochs: 2 } }));
    const c = buildConfig({ preset: 'paper', config: file, epochs: '3' });
    expect(c.seeds).toEqual([3, 4]);
    expect(c.eps).toEqual([0.2]);
    expect(c.train.epochs).toBe(3);
    expect(c.train.batchSize).toBe(64);
  });

  it('says which file is not JSON, and validates what it holds', () => {
    const dir = mkdtempSync(join(tmpdir(), 'glance-config-'));
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{ seeds: [1 ');
    badOption(() => buildConfig({ preset: 'paper', config: bad }), /--config .*bad.json: cannot read it as JSON/);
    const wrong = join(dir, 'wrong.json');
    writeFileSync(wrong, JSON.stringify({ eotSamples: 0 }));
    badOption(() => buildConfig({ preset: 'paper', config: wrong }), /eot-samples: expected a positive integer, got 0/);
  });
});

describe('job grid', () => {
  const smoke = PRESETS.smoke;
  const jobs = buildJobs(smoke, 10000);

  it('trains every model of every seed first, GlanceAgain after NormalNet of its seed', () => {
    const train = jobs.filter((j) => j.kind === 'train');
    expect(train.map((j) => j.id)).toEqual(smoke.seeds.flatMap((s) => smoke.models.map((m) => trainId(m, s))));
    expect(train.find((j) => j.model === 'GlanceAgain')!.deps).toEqual([trainId('NormalNet', 1)]);
  });

  it('evaluates clean, transfer and white-box, EOT only on GlanceAgain, sharded over the limit', () => {
    const evals = jobs.filter((j) => j.kind === 'eval');
    const ids = new Set(evals.map((j) => j.id));
    expect(ids.size).toBe(evals.length);
    expect(evals.filter((j) => j.attack === 'eot-fgsm').every((j) => j.model === 'GlanceAgain' && j.threat === 'white-box')).toBe(true);
    const clean = evals.filter((j) => j.threat === 'clean' && j.model === 'AdvNet' && j.seed === 1);
    expect(clean.map((j) => [j.start, j.end])).toEqual([[0, 500], [500, 1000]]);
    const transfer = evals.find((j) => j.threat === 'transfer' && j.model === 'GlanceAgain')!;
    expect(transfer.deps).toEqual([trainId('GlanceAgain', transfer.seed), trainId('NormalNet', transfer.seed)]);
    // 2 seeds x 3 models x (clean + 2 units x (transfer + white-box fgsm) [+ 2 EOT for GlanceAgain]) x 2 shards
    expect(evals.length).toBe(2 * (3 * (1 + 4) + 2) * 2);
  });

  it('shards the grid deterministically, each shard carrying the training it needs', () => {
    const a = shardJobs(jobs, { index: 1, count: 2 });
    const b = shardJobs(jobs, { index: 2, count: 2 });
    const evalIds = (js: typeof jobs) => js.filter((j) => j.kind === 'eval').map((j) => j.id);
    expect([...evalIds(a), ...evalIds(b)].sort()).toEqual(evalIds(jobs).sort());
    expect(evalIds(a).filter((id) => evalIds(b).includes(id))).toEqual([]);
    for (const shard of [a, b]) {
      const have = new Set(shard.map((j) => j.id));
      for (const j of shard) for (const d of j.deps) expect(have.has(d)).toBe(true);
    }
    expect(shardJobs(jobs, { index: 1, count: 2 })).toEqual(a);
  });
});
