import { describe, expect, it } from 'vitest';
import { CSV_COLUMNS, csvProvenance, parseResultsCsv, renderResultsCsv } from '../src/report/csv.js';
import { configHash } from '../src/experiments/config-hash.js';
import { PRESETS } from '../src/experiments/presets.js';
import { sumShards } from '../src/report/aggregate.js';
import { GOLDEN_RESULTS } from './report-golden-fixture.js';
import { result } from './report-fixtures.js';

describe('results CSV', () => {
  it('writes a header and one row per seed, shards summed', async () => {
    const text = await renderResultsCsv([
      result({ seed: 2, start: 0, end: 500, total: 500, correct: 490 }),
      result({ seed: 2, start: 500, end: 1000, total: 500, correct: 481 }),
      result({ seed: 1, correct: 975 }),
      result({
        seed: 1, threat: 'transfer', attack: 'fgsm-targeted', source: 'NormalNet', model: 'AdvNet', eps: 0.3,
        correct: 12, targetHits: 640, backend: { name: 'wasm', tfjs: '4.22.0' },
      }),
    ]);
    // No provenance given: its columns stay empty.
    expect(text).toBe([
      CSV_COLUMNS.join(','),
      ',,,mnist,NormalNet,,1,clean,none,,,0,pixel,test,975,1000,97.5,,,,,,,,,,,,,,,node,4.22.0,2.21.0',
      ',,,mnist,NormalNet,,2,clean,none,,,0,pixel,test,971,1000,97.1,,,,,,,,,,,,,,,node,4.22.0,2.21.0',
      ',,,mnist,AdvNet,,1,transfer,fgsm-targeted,NormalNet,,0.3,pixel,test,12,1000,1.2,640,,,,,,,,,,,,,,wasm,4.22.0,',
      '',
    ].join('\n'));
  });

  it('round-trips: parse(write(x)) gives the same values', async () => {
    const seeds = sumShards(GOLDEN_RESULTS);
    const rows = await parseResultsCsv(await renderResultsCsv(GOLDEN_RESULTS));
    expect(rows).toHaveLength(seeds.length);
    const key = (r: { dataset: string; model: string; threat: string; attack: string; eps: number; seed: number }) =>
      `${r.dataset} ${r.model} ${r.threat} ${r.attack} ${r.eps} ${r.seed}`;
    const parsed = new Map(rows.map((r) => [key(r), r]));
    for (const s of seeds) {
      const r = parsed.get(key(s));
      expect(r).toBeDefined();
      expect(r).toEqual({
        dataset: s.dataset, model: s.model, seed: s.seed, threat: s.threat, attack: s.attack,
        ...(s.source !== undefined ? { source: s.source } : {}),
        eps: s.eps, epsUnits: s.epsUnits, split: s.split, correct: s.correct, total: s.total,
        accuracy: s.accuracy,
        ...(s.targetHits !== undefined ? { targetHits: s.targetHits } : {}),
        ...(s.advUnits !== undefined ? { advUnits: s.advUnits } : {}),
        ...(s.gradient !== undefined ? { gradient: s.gradient } : {}),
        ...(s.attackParams !== undefined ? { attackParams: s.attackParams } : {}),
        backend: 'node', tfjs: '4.22.0', tensorflow: '2.21.0',
      });
    }
  });

  it('quotes awkward dataset names and reads them back', async () => {
    const text = await renderResultsCsv([result({ dataset: 'my "set", v2', correct: 1 })]);
    const [row] = await parseResultsCsv(text);
    expect(row.dataset).toBe('my "set", v2');
    expect(row.accuracy).toBeCloseTo(0.1, 12);
  });

  it('rejects bad values with the line number', async () => {
    const header = CSV_COLUMNS.join(',');
    const row = (model: string, seed: string) => `r,c,h,mnist,${model},,${seed},clean,none,,,0,pixel,test,9,10,90,,,,,,,,,,,,,,,node,4.22.0,`;
    await expect(parseResultsCsv(`${header}\n${row('LeNet', '1')}\n`))
      .rejects.toThrow(/line 2: model must be one of NormalNet, AdvNet, GlanceAgain, got "LeNet"/);
    await expect(parseResultsCsv(`${header}\n${row('AdvNet', 'x')}\n`))
      .rejects.toThrow(/seed must be an integer/);
    // A CSV of an older glance (no provenance columns) still reads.
    const old = 'dataset,model,seed,threat,attack,source,eps,eps_units,split,correct,total,accuracy,target_hits,backend,tfjs,tensorflow\n' +
      'mnist,AdvNet,1,clean,none,,0,pixel,test,9,10,90,,node,4.22.0,\n';
    expect((await parseResultsCsv(old))[0]).toMatchObject({ model: 'AdvNet', accuracy: 90 });
    await expect(parseResultsCsv('dataset,model\nmnist,AdvNet\n')).rejects.toThrow(/column "seed" is missing/);
  });

  it('carries provenance and run settings, so the CSVs of two runs concatenate and stay apart', async () => {
    const pixel = { ...PRESETS.smoke, epsUnits: ['pixel' as const], train: { ...PRESETS.smoke.train, advUnits: ['pixel' as const] } };
    const nearest = { ...pixel, glance: { baseLayer: 'frozen' as const, resampling: 'nearest' as const }, eval: { ...pixel.eval, limit: 500 } };
    const attackParams = { eotSamples: 1, steps: 1, stepSize: 0.3, randomStart: false, target: 'none' };
    const lines = [
      result({ model: 'AdvNet', advUnits: 'pixel', correct: 950 }),
      result({ model: 'AdvNet', advUnits: 'pixel', threat: 'white-box', attack: 'fgsm', source: 'AdvNet', eps: 0.3, gradient: 'stable', attackParams, correct: 700 }),
    ];
    const a = await renderResultsCsv(lines, csvProvenance('run-a', 'abc1234', pixel));
    const b = await renderResultsCsv(lines, csvProvenance('run-b', 'def5678-dirty', nearest));
    const [header, ...rowsB] = b.trimEnd().split('\n');
    expect(a.split('\n')[0]).toBe(header);
    const rows = await parseResultsCsv(`${a}${rowsB.join('\n')}\n`);
    expect(rows).toHaveLength(4);
    expect(rows.map((r) => [r.provenance?.runId, r.provenance?.commit, r.provenance?.resampling, r.provenance?.evalLimit])).toEqual([
      ['run-a', 'abc1234', 'bilinear', 1000], ['run-a', 'abc1234', 'bilinear', 1000],
      ['run-b', 'def5678-dirty', 'nearest', 500], ['run-b', 'def5678-dirty', 'nearest', 500],
    ]);
    expect(rows[0].provenance?.configHash).toBe(configHash(pixel));
    expect(rows[2].provenance?.configHash).toBe(configHash(nearest));
    expect(configHash(pixel)).not.toBe(configHash(nearest));
    expect(rows[1]).toMatchObject({ advUnits: 'pixel', gradient: 'stable', attackParams, provenance: { epochs: 1, trainLimit: 2000, baseLayer: 'frozen' } });
  });

  it('keeps the two attack gradients of one cell apart instead of counting one as a duplicate shard', async () => {
    const cell = { threat: 'transfer' as const, attack: 'fgsm' as const, source: 'NormalNet' as const, eps: 0.3 };
    const rows = await parseResultsCsv(await renderResultsCsv([result({ ...cell, gradient: 'stable', correct: 6 }), result({ ...cell, gradient: 'float32', correct: 60 })]));
    expect(rows.map((r) => [r.gradient, r.correct])).toEqual([['stable', 6], ['float32', 60]]);
  });
});
