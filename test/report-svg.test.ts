import { describe, expect, it } from 'vitest';
import { aggregate } from '../src/report/aggregate.js';
import { niceTicks, renderSweepSvg } from '../src/report/svg.js';
import { sweepGroups } from '../src/report/sweep.js';
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

describe('renderSweepSvg', () => {
  const lines = [
    ...GOLDEN_RESULTS,
    // A single-seed series: a line, no band.
    result({ model: 'GlanceAgain', threat: 'white-box', attack: 'eot-fgsm', source: 'GlanceAgain', eps: 0.1, correct: 700 }),
  ];
  const groups = sweepGroups(aggregate(lines));

  it('is a well-formed standalone SVG with title, axes, ticks and legend', () => {
    const svg = renderSweepSvg(groups, { title: 'Sweep <mnist & co>' });
    checkXml(svg);
    expect(svg).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="\d+" height="\d+" viewBox="0 0 \d+ \d+"/);
    expect(svg).toContain('Sweep &lt;mnist &amp; co&gt;');
    expect(svg).toContain('>eps (pixel units)</text>');
    expect(svg).toContain('>accuracy (%)</text>');
    for (const t of ['0.0', '0.1', '0.2', '0.3', '100']) expect(svg).toContain(`>${t}</text>`);
    expect(count(svg, /class="legend"/g)).toBe(3);
    expect(svg).toContain('NormalNet · white-box fgsm');
  });

  it('draws one series path per series and one band per series with more than one seed', () => {
    // Series: NormalNet fgsm (3 eps, 3 seeds), AdvNet fgsm (2 eps, 3 seeds), GlanceAgain eot-fgsm (0.1 with 1 seed, 0.3 with 3).
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

  it('is deterministic and escapes names; colours repeat with dashes past ten series', () => {
    expect(renderSweepSvg(groups)).toBe(renderSweepSvg([...groups].reverse()));
    const many = aggregate(Array.from({ length: 12 }, (_, i) => [
      ...seeds({ dataset: `set&${String(i).padStart(2, '0')}`, threat: 'white-box', attack: 'fgsm', eps: 0.1 }, [500, 520]),
      ...seeds({ dataset: `set&${String(i).padStart(2, '0')}`, threat: 'white-box', attack: 'fgsm', eps: 0.3 }, [100, 140]),
    ]).flat());
    const svg = renderSweepSvg(many);
    checkXml(svg);
    expect(count(svg, /<path class="series"/g)).toBe(12);
    expect(count(svg, /class="band"/g)).toBe(12);
    expect(count(svg, /<path class="series"[^>]*stroke-dasharray/g)).toBe(2);
    expect(svg).toContain('(set&amp;11)');
  });

  it('renders an empty plot for no groups', () => {
    const svg = renderSweepSvg([]);
    checkXml(svg);
    expect(svg).toContain('no sweep results');
    expect(count(svg, /<path class="series"/g)).toBe(0);
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
