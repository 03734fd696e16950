import { describe, it, expect } from 'vitest';
import type { ExperimentConfig } from '../src/experiments/config.js';
import { PRESETS } from '../src/experiments/presets.js';
import { buildJobs, shardJobs, trainId, type Job, type TrainJob } from '../src/experiments/grid.js';
import { mergeConfig, parseShard, validateConfig } from '../src/experiments/validate.js';
import { buildConfig } from '../src/cli/experiment-options.js';
import { GlanceError } from '../src/errors.js';
import { withAdvUnits } from '../src/experiments/readings.js';
import type { EpsUnits, EvalResult } from '../src/experiments/types.js';
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

  it('the paper preset is 5 seeds, eps 0.3, both units, transfer + white-box FGSM and EOT, and the checks of the evaluation', () => {
    const p = PRESETS.paper;
    expect(p.seeds).toEqual([1, 2, 3, 4, 5]);
    expect(p.eps).toEqual([0.3]);
    expect(p.epsUnits).toEqual(['pixel', 'normalized']);
    expect(p.attacks).toEqual(['fgsm', 'eot-fgsm', 'pgd', 'eot-pgd', 'noise', 'square']);
    expect(p.attackGradients).toEqual(['stable', 'float32']);
    expect(p.pgd.restarts).toBeGreaterThan(1);
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
    expect(buildConfig({ preset: 'paper', advUnits: 'normalized' }).train.advUnits).toEqual(['normalized']);
    badOption(() => buildConfig({ preset: 'paper', advUnits: 'meters' }), /adv-units: expected one of pixel, normalized/);
    expect(mergeConfig({ a: { b: 1, c: 2 } }, { a: { c: 3 } })).toEqual({ a: { b: 1, c: 3 } });
  });
});

describe('AdvNet per eps reading', () => {
  it('--adv-units lists the readings; by default every eps unit, one AdvNet each', () => {
    expect(PRESETS.paper.train.advUnits).toEqual(['pixel', 'normalized']);
    expect(buildConfig({ preset: 'paper', epsUnits: 'normalized' }).train.advUnits).toEqual(['normalized']);
    expect(buildConfig({ preset: 'paper', advUnits: 'normalized,pixel' }).train.advUnits).toEqual(['pixel', 'normalized']);
    badOption(() => buildConfig({ preset: 'sweep', advUnits: 'normalized' }), /adv-units: expected units among the eps units \(pixel\).*add it to --eps-units/);
    // A config.json of an older glance names one unit: a list of one.
    expect(validateConfig({ ...PRESETS.paper, train: { ...PRESETS.paper.train, advUnits: 'pixel' } }).train.advUnits).toEqual(['pixel']);
  });

  it('trains AdvNet once per reading and evaluates it only in its reading; NormalNet and GlanceAgain once', () => {
    // FGSM in one numerics: the cells of the readings, not of the attacks.
    const paperFgsm: ExperimentConfig = { ...PRESETS.paper, attacks: ['fgsm'], attackGradients: ['stable'] };
    const jobs = buildJobs({ ...paperFgsm, seeds: [1] }, 10000);
    expect(jobs.filter((j) => j.kind === 'train').map((j) => j.id)).toEqual([
      'train/NormalNet/seed1', 'train/AdvNet@pixel/seed1', 'train/AdvNet@normalized/seed1', 'train/GlanceAgain/seed1',
    ]);
    const adv = jobs.filter((j) => j.kind === 'eval' && (j.model === 'AdvNet' || j.source === 'AdvNet'));
    for (const j of adv) {
      expect(j.kind === 'eval' && j.epsUnits).toEqual([j.advUnits]);
      expect(j.deps).toContain(trainId('AdvNet', 1, j.advUnits));
    }
    expect(adv.map((j) => j.id).sort()).toEqual([
      'eval/AdvNet@normalized/seed1/clean/none/AdvNet@normalized/normalized/test0-10000',
      'eval/AdvNet@normalized/seed1/transfer/fgsm/NormalNet/normalized/test0-10000',
      'eval/AdvNet@normalized/seed1/white-box/fgsm/AdvNet@normalized/normalized/test0-10000',
      'eval/AdvNet@pixel/seed1/clean/none/AdvNet@pixel/pixel/test0-10000',
      'eval/AdvNet@pixel/seed1/transfer/fgsm/NormalNet/pixel/test0-10000',
      'eval/AdvNet@pixel/seed1/white-box/fgsm/AdvNet@pixel/pixel/test0-10000',
    ].map((id) => expect.stringMatching(new RegExp(`^${id.replace(/[/+]/g, '\\$&').replace('test0', '(.*/)?test0')}$`))));
    // Crafted on AdvNet (--transfer-source AdvNet): the source of each reading is that reading's AdvNet.
    const fromAdv = buildJobs({ ...paperFgsm, seeds: [1], transferSource: 'AdvNet' }, 10000)
      .filter((j) => j.kind === 'eval' && j.model === 'NormalNet' && j.threat === 'transfer');
    expect(fromAdv.map((j) => [j.kind === 'eval' && j.epsUnits, j.deps])).toEqual([
      [['pixel'], ['train/NormalNet/seed1', 'train/AdvNet@pixel/seed1']],
      [['normalized'], ['train/NormalNet/seed1', 'train/AdvNet@normalized/seed1']],
    ]);
  });

  it('a store of an older glance (advUnits one unit) keeps its grid: one AdvNet, evaluated in every reading', () => {
    const old = { ...PRESETS.paper, seeds: [1], train: { ...PRESETS.paper.train, advUnits: 'pixel' as unknown as EpsUnits[] } };
    const jobs = buildJobs(old, 10000);
    expect(jobs.filter((j) => j.kind === 'train').map((j) => j.id)).toContain('train/AdvNet/seed1');
    const wb = jobs.find((j) => j.kind === 'eval' && j.model === 'AdvNet' && j.threat === 'white-box')!;
    expect(wb.id).toMatch(/^eval\/AdvNet\/seed1\/white-box\/fgsm\/AdvNet\/pixel\+normalized\//);
    expect(wb.advUnits).toBeUndefined();
    const results = [{ model: 'AdvNet', source: 'AdvNet' }, { model: 'GlanceAgain', source: 'NormalNet' }, { model: 'AdvNet', advUnits: 'normalized' }] as EvalResult[];
    expect(withAdvUnits(results, old).map((r) => r.advUnits)).toEqual(['pixel', undefined, 'normalized']);
    expect(withAdvUnits(results, PRESETS.paper)).toBe(results);
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
    expect(train.map((j) => j.id)).toEqual(
      smoke.seeds.flatMap((s) => smoke.models.flatMap((m) => (m === 'AdvNet' ? smoke.train.advUnits.map((u) => trainId(m, s, u)) : [trainId(m, s)]))),
    );
    expect(train.find((j) => j.model === 'GlanceAgain')!.deps).toEqual([trainId('NormalNet', 1)]);
  });

  it('evaluates clean, transfer and white-box, EOT only on GlanceAgain, sharded over the limit', () => {
    const evals = jobs.filter((j) => j.kind === 'eval');
    const ids = new Set(evals.map((j) => j.id));
    expect(ids.size).toBe(evals.length);
    expect(evals.filter((j) => j.attack === 'eot-fgsm').every((j) => j.model === 'GlanceAgain' && j.threat === 'white-box')).toBe(true);
    const clean = evals.filter((j) => j.threat === 'clean' && j.model === 'AdvNet' && j.advUnits === 'pixel' && j.seed === 1);
    expect(clean.map((j) => [j.start, j.end])).toEqual([[0, 500], [500, 1000]]);
    const transfer = evals.find((j) => j.threat === 'transfer' && j.model === 'GlanceAgain')!;
    expect(transfer.deps).toEqual([trainId('GlanceAgain', transfer.seed), trainId('NormalNet', transfer.seed)]);
    // 2 seeds x 4 trained models (AdvNet per reading) x (clean + transfer + white-box fgsm [+ EOT for
    // GlanceAgain]) x 2 shards: one-step attacks cover both eps units in one job (they share the gradient).
    expect(evals.length).toBe(2 * (4 * (1 + 2) + 1) * 2);
    expect(transfer.epsUnits).toEqual(['pixel', 'normalized']);
    expect(transfer.id).toContain('/pixel+normalized/');
    // An iterative attack gets a job per unit.
    const pgd = buildJobs({ ...smoke, attacks: ['pgd'] }, 10000).filter((j) => j.kind === 'eval' && j.attack === 'pgd');
    expect(pgd.map((j) => (j as { epsUnits: string[] }).epsUnits)).toContainEqual(['normalized']);
    expect(pgd.every((j) => (j as { epsUnits: string[] }).epsUnits.length === 1)).toBe(true);
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

describe('training jobs from the models table', () => {
  const smoke = PRESETS.smoke;
  const three = { ...smoke, seeds: [1, 2, 3] };
  const train = (js: Job[]) => js.filter((j): j is TrainJob => j.kind === 'train');

  it('one model of one seed per job; a model depends on the model its base layer comes from, of its seed', () => {
    const jobs = buildJobs({ ...three, seeds: [7, 3], models: ['GlanceAgain', 'NormalNet'] }, 10000);
    expect(train(jobs).map((j) => [j.id, j.seed, j.deps])).toEqual([
      ['train/GlanceAgain/seed7', 7, ['train/NormalNet/seed7']],
      ['train/NormalNet/seed7', 7, []],
      ['train/GlanceAgain/seed3', 3, ['train/NormalNet/seed3']],
      ['train/NormalNet/seed3', 3, []],
    ]);
    const scratch = buildJobs({ ...three, glance: { ...three.glance, baseLayer: 'scratch' } }, 10000);
    expect(train(scratch).find((j) => j.model === 'GlanceAgain')!.deps).toEqual([]);
  });

  it('EOT attacks only a randomised source: white-box GlanceAgain, never transfer from NormalNet', () => {
    const jobs = buildJobs(three, 10000).filter((j) => j.kind === 'eval' && j.attack === 'eot-fgsm');
    expect(jobs.length).toBeGreaterThan(0);
    expect(jobs.every((j) => j.kind === 'eval' && j.source === 'GlanceAgain' && j.threat === 'white-box')).toBe(true);
  });

  it('a model whose base comes from another model needs that model in --models, unless it trains its own', () => {
    badOption(() => validateConfig({ ...smoke, models: ['GlanceAgain', 'AdvNet'], transferSource: 'AdvNet' }), /models: expected NormalNet too: GlanceAgain's frozen base layer comes from NormalNet/);
    const scratch = { ...smoke, models: ['GlanceAgain'], threats: ['white-box'], glance: { ...smoke.glance, baseLayer: 'scratch' } };
    expect(validateConfig(scratch).models).toEqual(['GlanceAgain']);
  });

  it('--pack is gone; a pack in a --config file (a config.json of an older glance) is ignored', () => {
    const dir = mkdtempSync(join(tmpdir(), 'glance-config-'));
    const file = join(dir, 'old.json');
    writeFileSync(file, JSON.stringify({ ...smoke, pack: 3, storeFormat: 1 }));
    const c = buildConfig({ preset: 'paper', config: file });
    expect(c).toEqual(smoke);
    expect(buildJobs(c, 10000)).toEqual(buildJobs(smoke, 10000));
  });
});
