import { describe, it, expect } from 'vitest';
import { PRESETS } from '../src/experiments/presets.js';
import { buildJobs, jobSeeds, shardJobs, trainId, type Job, type TrainJob } from '../src/experiments/grid.js';
import { resolvePack } from '../src/experiments/pack.js';
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
    // 2 seeds x 3 models x (clean + transfer + white-box fgsm [+ EOT for GlanceAgain]) x 2 shards:
    // one-step attacks cover both eps units in one job (they share the gradient).
    expect(evals.length).toBe(2 * (3 * (1 + 2) + 1) * 2);
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

describe('--pack: seeds of one model trained together', () => {
  const smoke = PRESETS.smoke;
  const three = { ...smoke, seeds: [1, 2, 3] };
  const train = (js: Job[]) => js.filter((j): j is TrainJob => j.kind === 'train');

  it('with pack 1 (and an unresolved auto) the jobs are exactly the unpacked grid', () => {
    const one = buildJobs({ ...three, pack: 1 }, 10000);
    expect(train(one).map((j) => j.id)).toEqual(three.seeds.flatMap((s) => three.models.map((m) => trainId(m, s))));
    expect(train(one).every((j) => j.seeds === undefined)).toBe(true);
    expect(buildJobs({ ...three, pack: 'auto' }, 10000)).toEqual(one);
    expect(JSON.stringify(buildJobs({ ...smoke, pack: 1 }, 10000))).toBe(JSON.stringify(buildJobs(smoke, 10000)));
  });

  it('with pack 2 each model trains chunks of consecutive seeds; evaluations depend on the pack of their seed', () => {
    const jobs = buildJobs({ ...three, pack: 2 }, 10000);
    expect(train(jobs).map((j) => [j.id, jobSeeds(j), j.deps])).toEqual([
      ['train/NormalNet/seeds1+2', [1, 2], []],
      ['train/AdvNet/seeds1+2', [1, 2], []],
      ['train/GlanceAgain/seeds1+2', [1, 2], ['train/NormalNet/seeds1+2']],
      ['train/NormalNet/seed3', [3], []],
      ['train/AdvNet/seed3', [3], []],
      ['train/GlanceAgain/seed3', [3], ['train/NormalNet/seed3']],
    ]);
    const ids = new Set(jobs.map((j) => j.id));
    for (const j of jobs) for (const d of j.deps) expect(ids.has(d)).toBe(true);
    const transfer = jobs.find((j) => j.kind === 'eval' && j.threat === 'transfer' && j.model === 'GlanceAgain' && j.seed === 2)!;
    expect(transfer.deps).toEqual(['train/GlanceAgain/seeds1+2', 'train/NormalNet/seeds1+2']);
    // The evaluations are the unpacked run's, only their training dependencies differ.
    const evals = (js: Job[]) => js.filter((j) => j.kind === 'eval').map((j) => j.id);
    expect(evals(jobs)).toEqual(evals(buildJobs({ ...three, pack: 1 }, 10000)));
  });

  it('follows config.seeds order and any models order; no base layer from NormalNet, no dependency', () => {
    const jobs = buildJobs({ ...three, seeds: [7, 3, 5], models: ['GlanceAgain', 'NormalNet'], pack: 3 }, 10000);
    expect(train(jobs).map((j) => [j.id, j.deps])).toEqual([
      ['train/GlanceAgain/seeds7+3+5', ['train/NormalNet/seeds7+3+5']],
      ['train/NormalNet/seeds7+3+5', []],
    ]);
    const scratch = buildJobs({ ...three, glance: { ...three.glance, baseLayer: 'scratch' }, pack: 3 }, 10000);
    expect(train(scratch).find((j) => j.model === 'GlanceAgain')!.deps).toEqual([]);
  });

  it('--shard i/n still gives each shard the packs it needs, and the shards cover the grid', () => {
    for (const pack of [2, 3]) {
      const jobs = buildJobs({ ...smoke, seeds: [1, 2, 3, 4, 5], pack }, 10000);
      const shards = [1, 2, 3].map((index) => shardJobs(jobs, { index, count: 3 }));
      const evalIds = (js: Job[]) => js.filter((j) => j.kind === 'eval').map((j) => j.id);
      expect(shards.flatMap(evalIds).sort()).toEqual(evalIds(jobs).sort());
      for (const shard of shards) {
        const have = new Set(shard.map((j) => j.id));
        for (const j of shard) for (const d of j.deps) expect(have.has(d)).toBe(true);
      }
      expect(new Set(shards.flatMap((s) => s.map((j) => j.id)))).toEqual(new Set(jobs.map((j) => j.id)));
    }
  });

  it('auto is seeds/workers on node and 1 on wasm or cpu; explicit numbers are kept, capped at the seeds', () => {
    expect(resolvePack('auto', 5, 2, 'node')).toBe(3);
    expect(resolvePack('auto', 5, 8, 'node')).toBe(1);
    expect(resolvePack('auto', 5, 2, 'wasm')).toBe(1);
    expect(resolvePack('auto', 5, 2, 'cpu')).toBe(1);
    expect(resolvePack(3, 5, 2, 'wasm')).toBe(3);
    expect(resolvePack(9, 5, 2, 'node')).toBe(5);
  });

  it('--pack takes a positive integer or auto; a config without pack (an older run) means 1', () => {
    expect(buildConfig({ preset: 'smoke' }).pack).toBe('auto');
    expect(buildConfig({ preset: 'smoke', pack: '3' }).pack).toBe(3);
    expect(buildConfig({ preset: 'smoke', pack: 'auto' }).pack).toBe('auto');
    badOption(() => buildConfig({ preset: 'smoke', pack: '0' }), /pack.*positive integer or auto/);
    badOption(() => buildConfig({ preset: 'smoke', pack: '1.5' }), /pack/);
    const { pack: _, ...old } = smoke;
    expect(validateConfig(old).pack).toBe(1);
  });
});
