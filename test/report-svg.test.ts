import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MODELS, type TrainRecord } from '../src/experiments/types.js';
import { aggregate, type AggregateGroup } from '../src/report/aggregate.js';
import { renderCellsSvg } from '../src/report/cells-svg.js';
import { settingsOf } from '../src/report/format.js';
import { paperCells } from '../src/report/paper-tables.js';
import { modelColor, niceTicks, renderSweepSvg } from '../src/report/svg.js';
import { sweepGroups } from '../src/report/sweep.js';
import { renderTrainingSvg, renderTrainingTable, trainingCurves } from '../src/report/training.js';
import { GOLDEN_RESULTS } from './report-golden-fixture.js';
import { result, seeds } from './report-fixtures.js';

/**
 * A small XML well-formedness check (no parser is installed): one root, tags
 * balanced and properly nested, attributes quoted and unique, no stray '<' or
 * bare '&' in text.
 */
function checkXml(xml: string): void {
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, '').replace(/<!--[\s\S]*?-->/g, '');
  const tag = /<(\/?)([A-Za-z_][\w:.-]*)((?:\s+[A-Za-z_][\w:.-]*="[^"<]*")*)\s*(\/?)>/g;
  const stack: string[] = [];
  let roots = 0;
  let last = 0;
  const checkText = (text: string) => {
    if (/</.test(text)) throw new Error(`stray '<' or malformed tag near: ${text.slice(0, 60)}`);
    if (/&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/.test(text)) throw new Error(`bare '&' in: ${text.slice(0, 60)}`);
    if (stack.length === 0 && text.trim() !== '') throw new Error(`text outside the root: ${text.slice(0, 60)}`);
  };
  for (const m of body.matchAll(tag)) {
    checkText(body.slice(last, m.index));
    last = m.index! + m[0].length;
    const [, close, name, attrs, selfClose] = m;
    const names = [...attrs.matchAll(/([A-Za-z_][\w:.-]*)=/g)].map((a) => a[1]);
    if (new Set(names).size !== names.length) throw new Error(`duplicate attribute in <${name}>`);
    if (close) {
      if (stack.pop() !== name) throw new Error(`</${name}> closes the wrong element`);
    } else {
      if (stack.length === 0) roots += 1;
      if (!selfClose) stack.push(name);
    }
  }
  checkText(body.slice(last));
  if (stack.length) throw new Error(`unclosed: ${stack.join(', ')}`);
  if (roots !== 1) throw new Error(`expected one root element, found ${roots}`);
}

const count = (s: string, re: RegExp) => (s.match(re) ?? []).length;

describe('checkXml (the test helper itself)', () => {
  it('accepts well-formed and rejects malformed documents', () => {
    expect(() => checkXml('<?xml version="1.0"?>\n<a x="1"><b/><c>t &amp; u</c></a>\n')).not.toThrow();
    expect(() => checkXml('<a><b></a></b>')).toThrow();
    expect(() => checkXml('<a>x & y</a>')).toThrow();
    expect(() => checkXml('<a x=1></a>')).toThrow();
    expect(() => checkXml('<a></a><b></b>')).toThrow();
    expect(() => checkXml('<a><b></a>')).toThrow();
  });
});

/** The small fixed input of the golden plots: two eps readings, transfer and white-box, FGSM and PGD. */
const SMALL = aggregate([
  ...seeds({ threat: 'white-box', attack: 'fgsm', source: 'NormalNet', eps: 0.1 }, [400, 420, 410]),
  ...seeds({ threat: 'white-box', attack: 'fgsm', source: 'NormalNet', eps: 0.3 }, [60, 70, 65]),
  ...seeds({ model: 'GlanceAgain', threat: 'white-box', attack: 'pgd', source: 'GlanceAgain', eps: 0.1 }, [600, 640]),
  ...seeds({ model: 'GlanceAgain', threat: 'white-box', attack: 'pgd', source: 'GlanceAgain', eps: 0.3 }, [100, 120]),
  ...seeds({ model: 'AdvNet', threat: 'transfer', attack: 'fgsm', source: 'NormalNet', eps: 0.1, epsUnits: 'normalized' }, [960, 950]),
  ...seeds({ model: 'AdvNet', threat: 'transfer', attack: 'fgsm', source: 'NormalNet', eps: 0.3, epsUnits: 'normalized' }, [900, 930]),
  // A single eps is a point, not a curve: no panel for it.
  ...seeds({ model: 'AdvNet', threat: 'transfer', attack: 'fgsm', source: 'NormalNet', eps: 0.3 }, [940, 945]),
]);

const golden = (name: string) => readFileSync(new URL(`./fixtures/svg/${name}`, import.meta.url), 'utf8');
/** The panels of a sweep SVG, each as its text. */
const panelsOf = (svg: string) => svg.split('<g class="panel">').slice(1).map((p) => p.slice(0, p.indexOf('</g>')));

describe('renderSweepSvg: small multiples', () => {
  const lines = [
    ...GOLDEN_RESULTS,
    // A single-seed series: a line, no band.
    result({ model: 'GlanceAgain', threat: 'white-box', attack: 'eot-fgsm', source: 'GlanceAgain', eps: 0.1, correct: 700 }),
  ];
  const groups = sweepGroups(aggregate(lines));

  it('matches the golden SVG for a fixed input', () => {
    expect(renderSweepSvg(sweepGroups(SMALL))).toBe(golden('sweep.svg'));
  });

  it('is a well-formed standalone SVG with title, axes, ticks and a legend of models and attacks', () => {
    const svg = renderSweepSvg(groups, { title: 'Sweep <mnist & co>' });
    checkXml(svg);
    expect(svg).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="\d+" height="\d+" viewBox="0 0 \d+ \d+"/);
    expect(svg).toContain('Sweep &lt;mnist &amp; co&gt;');
    expect(svg).toContain('>eps (pixel units)</text>');
    expect(svg).toContain('>accuracy (%)</text>');
    for (const t of ['0.0', '0.1', '0.2', '0.3', '100']) expect(svg).toContain(`>${t}</text>`);
    // Legend: the three models, then the attacks (fgsm, eot-fgsm).
    expect(count(svg, /class="legend"/g)).toBe(5);
  });

  it('draws a panel per threat and eps reading, none empty', () => {
    const panels = panelsOf(renderSweepSvg(sweepGroups(SMALL)));
    expect(panels.map((p) => p.match(/class="panel-title"[^>]*>([^<]*)</)![1])).toEqual(['transfer · normalized eps', 'white-box · pixel eps']);
    for (const p of panels) expect(count(p, /<path class="series"/g)).toBeGreaterThan(0);
    expect(panelsOf(renderSweepSvg(groups)).length).toBe(1);
    // A second dataset swept: the panels name dataset and split.
    const two = panelsOf(renderSweepSvg(sweepGroups(aggregate([...lines, ...seeds({ dataset: 'fashion-mnist', threat: 'white-box', attack: 'fgsm', source: 'NormalNet', eps: 0.3 }, [50])]))));
    expect(two.map((p) => p.match(/class="panel-title"[^>]*>([^<]*)</)![1])).toEqual([
      'white-box · mnist · pixel eps · test split', 'white-box · fashion-mnist · pixel eps · test split',
    ]);
  });

  it('keeps a colour per model and a dash per attack across panels', () => {
    const svg = renderSweepSvg(sweepGroups(aggregate([
      ...seeds({ threat: 'white-box', attack: 'fgsm', eps: 0.1 }, [500]), ...seeds({ threat: 'white-box', attack: 'fgsm', eps: 0.3 }, [100]),
      ...seeds({ threat: 'white-box', attack: 'fgsm', eps: 0.1, epsUnits: 'normalized' }, [600]), ...seeds({ threat: 'white-box', attack: 'fgsm', eps: 0.3, epsUnits: 'normalized' }, [200]),
      ...seeds({ threat: 'white-box', attack: 'pgd', eps: 0.1 }, [300]), ...seeds({ threat: 'white-box', attack: 'pgd', eps: 0.3 }, [0]),
    ])));
    const series = [...svg.matchAll(/<path class="series"[^>]*stroke="(#[0-9a-f]+)"[^>]*?(?: stroke-dasharray="([^"]+)")?\/>/g)].map((m) => [m[1], m[2] ?? '']);
    expect(series).toEqual([[modelColor('NormalNet'), ''], [modelColor('NormalNet'), ''], [modelColor('NormalNet'), '7 4']]);
    expect(new Set(MODELS.map(modelColor)).size).toBe(3);
  });

  it('draws a band only for series with more than one seed', () => {
    const svg = renderSweepSvg(groups);
    expect(count(svg, /<path class="series"/g)).toBe(3);
    expect(count(svg, /class="band"/g)).toBe(3);
    const single = renderSweepSvg(aggregate([
      result({ threat: 'white-box', attack: 'pgd', eps: 0.1, correct: 500 }),
      result({ threat: 'white-box', attack: 'pgd', eps: 0.2, correct: 300 }),
    ]));
    expect(count(single, /<path class="series"/g)).toBe(1);
    expect(count(single, /class="band"/g)).toBe(0);
    expect(count(single, /<circle class="point"/g)).toBe(2);
  });

  it('is deterministic', () => {
    expect(renderSweepSvg(groups)).toBe(renderSweepSvg([...groups].reverse()));
  });

  it('renders a plot without panels for no groups', () => {
    const svg = renderSweepSvg([]);
    checkXml(svg);
    expect(svg).toContain('no sweep results');
    expect(count(svg, /class="panel"/g)).toBe(0);
  });
});

describe('renderCellsSvg: Tables I-III as dots and intervals', () => {
  const cellsOf = (gs: AggregateGroup[]) => paperCells(gs, settingsOf(gs), { eotLabel: 'EOT-10' });

  it('matches the golden SVG for a fixed input', () => {
    expect(renderCellsSvg(cellsOf(SMALL))).toBe(golden('cells.svg'));
  });

  it('has a row per measured cell, a ring per seed, the paper where it has a number, and no empty rows', () => {
    const all = aggregate(GOLDEN_RESULTS);
    const cells = cellsOf(all);
    const svg = renderCellsSvg(cells);
    checkXml(svg);
    // The golden results: Table I 3 + 1 (fashion-mnist), II 3, III 4 on mnist; the missing rows are not drawn.
    expect(cells.length).toBe(11);
    expect(count(svg, /<g class="cell">/g)).toBe(11);
    expect(count(svg, /<circle class="seed"/g)).toBe(cells.reduce((s, c) => s + c.group.perSeed.length, 0));
    // Paper values: every mnist cell but EOT and fashion-mnist.
    expect(count(svg, /<path class="paper"/g)).toBe(9);
    expect(svg).not.toContain('no results');
    expect(svg).toContain('<title>seed 2: 98.4</title>');
  });

  it('places the mean, the interval and the paper on the 0-100 axis', () => {
    const svg = renderCellsSvg(cellsOf(aggregate(seeds({}, [960, 970, 980]))));
    const x = (name: string) => Number(svg.match(new RegExp(`class="${name}" c?x1?="([\\d.]+)"`))![1]);
    const left = x('mean') - 0.97 * 400;
    expect(x('mean')).toBeCloseTo(left + 97 * 4, 6);
    // 95% CI of 96, 97, 98: 97 ± 4.303 * 1 / sqrt(3) = 97 ± 2.48, clipped to 100.
    expect(x('ci')).toBeCloseTo(left + (97 - 2.484) * 4, 0);
    expect(svg).toContain('97.0 [94.5–99.5] n=3 · paper 97.1');
  });
});

describe('training curves', () => {
  const rec = (model: TrainRecord['model'], seed: number, losses: number[], checkpoint = `${model}-seed${seed}`): TrainRecord => ({
    model, seed, checkpoint, backend: { name: 'cpu', tfjs: '4.22.0' },
    history: losses.map((loss, i) => ({ epoch: i + 1, epochs: losses.length, loss, accuracy: 100 - 10 * loss, samplesPerSec: 1, seconds: 1 })),
  });
  const store = [rec('GlanceAgain', 1, [0.4, 0.2]), rec('NormalNet', 2, [0.6, 0.2]), rec('NormalNet', 1, [0.4, 0.1])];

  it('groups the stored histories per model, in the models\' order and by seed', () => {
    const curves = trainingCurves(store);
    expect(curves.map((c) => [c.label, c.seeds.map((s) => s.seed)])).toEqual([['NormalNet', [1, 2]], ['GlanceAgain', [1]]]);
    expect(curves[0].seeds[1].loss).toEqual([0.6, 0.2]);
    expect(curves[0].seeds[1].accuracy).toEqual([94, 98]);
    // A model trained in two variants (checkpoint names) gets a curve each.
    const two = trainingCurves([...store, rec('AdvNet', 1, [1, 0.5], 'AdvNet-normalized-seed1'), rec('AdvNet', 1, [1, 0.6])]);
    expect(two.map((c) => c.label)).toEqual(['NormalNet', 'AdvNet', 'AdvNet-normalized', 'GlanceAgain']);
  });

  it('tabulates the first and last epoch as mean ± sd over seeds', () => {
    expect(renderTrainingTable(trainingCurves(store)).slice(2)).toEqual([
      // NormalNet losses (0.4, 0.6) -> 0.500 ± 0.141; (0.1, 0.2) -> 0.150 ± 0.071; accuracy 100 - 10 * loss.
      '| NormalNet | 2 | 2 | 0.500 ± 0.141 | 0.150 ± 0.071 | 95.0 ± 1.4 | 98.5 ± 0.7 |',
      '| GlanceAgain | 1 | 2 | 0.400 ± — | 0.200 ± — | 96.0 ± — | 98.0 ± — |',
    ]);
  });

  it('draws a thin line per seed and a mean line per model in each of two panels; golden', () => {
    const svg = renderTrainingSvg(trainingCurves(store));
    checkXml(svg);
    expect(count(svg, /<path class="seed"/g)).toBe(2 * 3);
    expect(count(svg, /<path class="mean"/g)).toBe(2 * 2);
    expect(svg).toBe(golden('training.svg'));
    expect(renderTrainingSvg([])).toContain('no training history');
  });

  it('draws the variants of one model (an AdvNet per eps reading) in its colour with their own dash', () => {
    const svg = renderTrainingSvg(trainingCurves([rec('AdvNet', 1, [1, 0.5], 'AdvNet@normalized-seed1'), rec('AdvNet', 1, [1, 0.6], 'AdvNet@pixel-seed1')]));
    const means = [...svg.matchAll(/<path class="mean"[^>]*stroke="(#[0-9a-f]+)"[^>]*?(?: stroke-dasharray="([^"]+)")?\/>/g)].map((m) => [m[1], m[2] ?? '']);
    const advnet = modelColor('AdvNet');
    expect(means).toEqual([[advnet, ''], [advnet, '7 4'], [advnet, ''], [advnet, '7 4']]);
    expect(svg).toContain('>AdvNet@normalized</text>');
  });
});

describe('niceTicks', () => {
  it('steps by 1, 2 or 5 times a power of ten from 0 past the maximum', () => {
    expect(niceTicks(0.3)).toEqual({ ticks: [0, 0.1, 0.2, 0.3], decimals: 1 });
    expect(niceTicks(0.25)).toEqual({ ticks: [0, 0.05, 0.1, 0.15, 0.2, 0.25], decimals: 2 });
    expect(niceTicks(1)).toEqual({ ticks: [0, 0.2, 0.4, 0.6, 0.8, 1], decimals: 1 });
    expect(niceTicks(0)).toEqual({ ticks: [0, 0.2, 0.4, 0.6, 0.8, 1], decimals: 1 });
  });
});
