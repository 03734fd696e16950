import { describe, expect, it } from 'vitest';
import { CSV_COLUMNS, parseResultsCsv, renderResultsCsv } from '../src/report/csv.js';
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
    expect(text).toBe([
      CSV_COLUMNS.join(','),
      'mnist,NormalNet,1,clean,none,,0,pixel,test,975,1000,97.5,,node,4.22.0,2.21.0',
      'mnist,NormalNet,2,clean,none,,0,pixel,test,971,1000,97.1,,node,4.22.0,2.21.0',
      'mnist,AdvNet,1,transfer,fgsm-targeted,NormalNet,0.3,pixel,test,12,1000,1.2,640,wasm,4.22.0,',
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
    await expect(parseResultsCsv(`${header}\nmnist,LeNet,1,clean,none,,0,pixel,test,9,10,90,,node,4.22.0,\n`))
      .rejects.toThrow(/line 2: model must be one of NormalNet, AdvNet, GlanceAgain, got "LeNet"/);
    await expect(parseResultsCsv(`${header}\nmnist,AdvNet,x,clean,none,,0,pixel,test,9,10,90,,node,4.22.0,\n`))
      .rejects.toThrow(/seed must be an integer/);
    await expect(parseResultsCsv('dataset,model\nmnist,AdvNet\n')).rejects.toThrow(/column "seed" is missing/);
  });
});
