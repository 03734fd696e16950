/**
 * The eps sweep as a standalone SVG: accuracy (%) against eps, one line per
 * series, a translucent band of ± one sd over seeds, axes with ticks, a legend
 * and a title. Plain strings, no DOM: it opens in a browser and renders on
 * GitHub (no scripts, no external fonts, a white background for dark themes).
 */
import { compareGroups, type AggregateGroup } from './aggregate.js';
import { fmt1, fmtEps } from './format.js';
import { seriesOf } from './sweep.js';

/** Tableau 10: distinguishable, and still distinct for most colour-blind readers. */
const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
/** After ten series the colours repeat with a new dash pattern. */
const DASHES = ['', '6 3', '2 3', '8 3 2 3'];

const MIN_WIDTH = 760;
/** A generous average glyph width at 12px, to size the legend column without measuring text. */
const CHAR_WIDTH = 7;
const PLOT = { left: 64, top: 48, width: 440, height: 300 };
const LEGEND_X = PLOT.left + PLOT.width + 24;
const LEGEND_ROW = 18;

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** Coordinates with at most two decimals keep the file small and stable. */
const n2 = (x: number) => String(Math.round(x * 100) / 100);

/** Ticks at 1, 2 or 5 times a power of ten from 0 past max, about five of them. */
export function niceTicks(max: number): { ticks: number[]; decimals: number } {
  const top = max > 0 ? max : 1;
  const raw = top / 5;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw) ?? 10 * pow;
  const count = Math.ceil(top / step - 1e-9);
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return { ticks: Array.from({ length: count + 1 }, (_, i) => Number((i * step).toFixed(decimals))), decimals };
}

/** Distinguishing parts beyond model and attack, only when the plotted series differ in them. */
function labeller(groups: readonly AggregateGroup[]): (g: AggregateGroup) => string {
  const varies = (f: (g: AggregateGroup) => string) => new Set(groups.map(f)).size > 1;
  const units = varies((g) => g.epsUnits);
  const dataset = varies((g) => g.dataset);
  const split = varies((g) => g.split);
  return (g) => {
    const extra = [dataset ? g.dataset : '', split ? `${g.split} split` : '', units ? `${g.epsUnits} eps` : ''].filter(Boolean);
    return extra.length ? ` (${extra.join(', ')})` : '';
  };
}

export function renderSweepSvg(groups: readonly AggregateGroup[], opts: { title?: string } = {}): string {
  const title = opts.title ?? 'Accuracy vs eps (mean ± sd over seeds)';
  // Sorted first, so colours and legend order do not depend on the caller's order.
  const series = seriesOf([...groups].sort(compareGroups))
    .map((s) => ({ ...s, points: s.points.filter((p) => Number.isFinite(p.mean)) }))
    .filter((s) => s.points.length > 0);
  const suffix = labeller(groups);
  const units = [...new Set(groups.map((g) => g.epsUnits))];
  const xLabel = units.length === 1 ? `eps (${units[0]} units)` : 'eps (each series in its own units)';
  const { ticks, decimals } = niceTicks(Math.max(0, ...groups.map((g) => g.eps)));
  const xMax = ticks[ticks.length - 1];
  const x = (eps: number) => PLOT.left + (eps / xMax) * PLOT.width;
  const y = (acc: number) => PLOT.top + PLOT.height - (Math.min(100, Math.max(0, acc)) / 100) * PLOT.height;
  const labels = series.map((s) => s.label + suffix(s.points[0]));
  const W = Math.max(MIN_WIDTH, LEGEND_X + 30 + CHAR_WIDTH * Math.max(0, ...labels.map((l) => l.length)) + 12);
  const H = Math.max(PLOT.top + PLOT.height + 56, PLOT.top + series.length * LEGEND_ROW + 24);
  const bottom = PLOT.top + PLOT.height;

  const out: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text class="title" x="${W / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
  ];
  // Grid and ticks first, so the data is drawn over them.
  for (const t of [0, 20, 40, 60, 80, 100]) {
    out.push(`<line x1="${PLOT.left}" y1="${n2(y(t))}" x2="${PLOT.left + PLOT.width}" y2="${n2(y(t))}" stroke="#e5e5e5"/>`,
      `<text x="${PLOT.left - 6}" y="${n2(y(t) + 4)}" text-anchor="end">${t}</text>`);
  }
  for (const t of ticks) {
    out.push(`<line x1="${n2(x(t))}" y1="${bottom}" x2="${n2(x(t))}" y2="${bottom + 5}" stroke="#333333"/>`,
      `<text x="${n2(x(t))}" y="${bottom + 18}" text-anchor="middle">${t.toFixed(decimals)}</text>`);
  }
  out.push(
    `<path class="axes" d="M${PLOT.left} ${PLOT.top}V${bottom}H${PLOT.left + PLOT.width}" fill="none" stroke="#333333"/>`,
    `<text class="x-label" x="${PLOT.left + PLOT.width / 2}" y="${bottom + 38}" text-anchor="middle">${escapeXml(xLabel)}</text>`,
    `<text class="y-label" transform="translate(18 ${PLOT.top + PLOT.height / 2}) rotate(-90)" text-anchor="middle">accuracy (%)</text>`,
  );
  if (series.length === 0) {
    out.push(`<text x="${PLOT.left + PLOT.width / 2}" y="${PLOT.top + PLOT.height / 2}" text-anchor="middle" fill="#888888">no sweep results</text>`);
  }

  series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length];
    const dash = DASHES[Math.floor(i / PALETTE.length) % DASHES.length];
    const dashAttr = dash ? ` stroke-dasharray="${dash}"` : '';
    const pts = s.points;
    // The band needs a spread: drawn when some point has more than one seed (sd of one seed counts as 0).
    if (pts.some((p) => p.n > 1)) {
      const sd = (p: AggregateGroup) => (Number.isFinite(p.sd) ? p.sd : 0);
      const upper = pts.map((p) => `${n2(x(p.eps))} ${n2(y(p.mean + sd(p)))}`);
      const lower = [...pts].reverse().map((p) => `${n2(x(p.eps))} ${n2(y(p.mean - sd(p)))}`);
      out.push(`<path class="band" d="M${[...upper, ...lower].join('L')}Z" fill="${color}" fill-opacity="0.18" stroke="none"/>`);
    }
    const line = pts.map((p) => `${n2(x(p.eps))} ${n2(y(p.mean))}`).join('L');
    out.push(`<path class="series" d="M${line}" fill="none" stroke="${color}" stroke-width="2"${dashAttr}/>`);
    for (const p of pts) {
      const tip = `${s.label}${suffix(p)}, eps ${fmtEps(p.eps)}: ${fmt1(p.mean)} ± ${fmt1(p.sd)} (n = ${p.n})`;
      out.push(`<circle class="point" cx="${n2(x(p.eps))}" cy="${n2(y(p.mean))}" r="3" fill="${color}"><title>${escapeXml(tip)}</title></circle>`);
    }
    const ly = PLOT.top + i * LEGEND_ROW + 6;
    out.push(`<line x1="${LEGEND_X}" y1="${ly}" x2="${LEGEND_X + 24}" y2="${ly}" stroke="${color}" stroke-width="2"${dashAttr}/>`,
      `<text class="legend" x="${LEGEND_X + 30}" y="${ly + 4}">${escapeXml(labels[i])}</text>`);
  });
  out.push('</svg>', '');
  return out.join('\n');
}
