/**
 * The report's plots as standalone SVG strings (no DOM, no scripts, no external
 * fonts, a white background for dark themes), so they open in a browser, render
 * on GitHub and are golden-testable: the same input gives the same bytes. This
 * file holds the shared pieces (escaping, ticks, the colour and dash of each
 * model and attack) and the eps sweep as small multiples; cells-svg.ts,
 * training.ts and gallery-svg.ts draw the other plots with them.
 */
import { compareGroups, type AggregateGroup } from './aggregate.js';
import { fmt1, fmtEps, settingKey, settingLabel } from './format.js';
import { MODELS } from '../experiments/types.js';
import { seriesOf, type SweepSeries } from './sweep.js';

/**
 * Okabe-Ito: distinct for the common colour-vision deficiencies. A model keeps
 * its colour in every plot (NormalNet blue, AdvNet orange, GlanceAgain green).
 */
const OKABE_ITO = ['#0072b2', '#e69f00', '#009e73', '#cc79a7', '#d55e00', '#56b4e9', '#000000'];

export function modelColor(model: string): string {
  const i = (MODELS as readonly string[]).indexOf(model);
  return OKABE_ITO[i >= 0 ? i : MODELS.length + (hash(model) % (OKABE_ITO.length - MODELS.length))];
}

/** Dash patterns, one per attack, in the order attackStyles assigns them. */
const DASHES = ['', '7 4', '2 3', '9 3 2 3', '12 4', '4 2 1 2'];

/** A stable small hash, so a colour outside the table does not depend on call order. */
function hash(s: string): number {
  let h = 0;
  for (const c of s) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return h;
}

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** Coordinates with at most two decimals keep the file small and stable. */
export const n2 = (x: number) => String(Math.round(x * 100) / 100);

/** A generous average glyph width at 12px, to size text columns without measuring text. */
export const CHAR_WIDTH = 7;

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

/** The opening of a standalone SVG: declaration, root, title, background and a centred heading. */
export function svgOpen(width: number, height: number, title: string): string[] {
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text class="title" x="${n2(width / 2)}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
  ];
}

/** The attack part of a series, what its line style shows: 'fgsm', 'pgd', 'fgsm from NormalNet' (transfer). */
const attackKey = (g: AggregateGroup) => (g.threat === 'transfer' && g.source !== undefined ? `${g.attack} from ${g.source}` : g.attack);

export interface Panel {
  /** 'white-box · pixel eps', with dataset and split when the panels differ in them. */
  title: string;
  /** The panel's (dataset, eps units, split): its row in the grid. */
  setting: string;
  /** Its column in the grid. */
  threat: string;
  series: SweepSeries[];
}

/**
 * One panel per (dataset, eps units, split, threat) that has a series, in the
 * report's order; panels without a finite point are left out, not drawn empty.
 */
export function sweepPanels(groups: readonly AggregateGroup[]): Panel[] {
  const sorted = [...groups].filter((g) => Number.isFinite(g.mean)).sort(compareGroups);
  const multi = (f: (g: AggregateGroup) => string) => new Set(sorted.map(f)).size > 1;
  const showSetting = multi((g) => `${g.dataset}|${g.split}`);
  const panels = new Map<string, Panel>();
  for (const s of seriesOf(sorted)) {
    const g = s.points[0];
    const key = `${settingKey(g)}|${g.threat}`;
    const title = showSetting ? `${g.threat} · ${settingLabel(g)}` : `${g.threat} · ${g.epsUnits} eps`;
    let p = panels.get(key);
    if (!p) panels.set(key, (p = { title, setting: settingKey(g), threat: g.threat, series: [] }));
    p.series.push(s);
  }
  return [...panels.values()];
}

const PANEL = { width: 300, height: 200, left: 52, top: 34, gapX: 28, gapY: 62 };
const LEGEND_ROW = 18;

/**
 * The eps sweep as small multiples: a panel per threat and eps reading, accuracy
 * (%) against eps, a line per (model, attack) with a band of ± one sd over seeds.
 * A model has the same colour and an attack the same dash in every panel.
 */
export function renderSweepSvg(groups: readonly AggregateGroup[], opts: { title?: string } = {}): string {
  const title = opts.title ?? 'Accuracy vs eps (mean ± sd over seeds)';
  const panels = sweepPanels(groups);
  const attacks = [...new Set(panels.flatMap((p) => p.series.map((s) => attackKey(s.points[0]))))].sort();
  const dashOf = (g: AggregateGroup) => DASHES[attacks.indexOf(attackKey(g)) % DASHES.length];
  const models = MODELS.filter((m) => panels.some((p) => p.series.some((s) => s.points[0].model === m)));
  // A row per eps reading (and dataset, split), a column per threat: a reading's panels side by side.
  const threats = [...new Set(panels.map((p) => p.threat))];
  const settings = [...new Set(panels.map((p) => p.setting))];
  const cols = Math.max(1, threats.length);
  const rows = settings.length;
  const cellW = PANEL.left + PANEL.width + PANEL.gapX;
  const cellH = PANEL.top + PANEL.height + PANEL.gapY;
  const legendX = cols * cellW + 8;
  const legendLabels = [...models, ...attacks];
  const W = Math.max(480, legendX + 40 + CHAR_WIDTH * Math.max(10, ...legendLabels.map((l) => l.length)));
  const H = Math.max(40 + rows * cellH, 40 + (legendLabels.length + 3) * LEGEND_ROW, 140);
  const out = svgOpen(W, H, title);
  if (panels.length === 0) {
    out.push(`<text x="${n2(W / 2)}" y="${n2(H / 2)}" text-anchor="middle" fill="#888888">no sweep results</text>`, '</svg>', '');
    return out.join('\n');
  }

  for (const panel of panels) {
    const ox = threats.indexOf(panel.threat) * cellW;
    const oy = 40 + settings.indexOf(panel.setting) * cellH;
    const left = ox + PANEL.left;
    const top = oy + PANEL.top;
    const bottom = top + PANEL.height;
    const pts = panel.series.flatMap((s) => s.points);
    const { ticks, decimals } = niceTicks(Math.max(0, ...pts.map((p) => p.eps)));
    const xMax = ticks[ticks.length - 1];
    const x = (eps: number) => left + (eps / xMax) * PANEL.width;
    const y = (acc: number) => bottom - (Math.min(100, Math.max(0, acc)) / 100) * PANEL.height;
    out.push(`<g class="panel">`, `<text class="panel-title" x="${n2(left + PANEL.width / 2)}" y="${top - 10}" text-anchor="middle" font-weight="bold">${escapeXml(panel.title)}</text>`);
    for (const t of [0, 20, 40, 60, 80, 100]) {
      out.push(`<line x1="${left}" y1="${n2(y(t))}" x2="${left + PANEL.width}" y2="${n2(y(t))}" stroke="#e5e5e5"/>`,
        `<text x="${left - 6}" y="${n2(y(t) + 4)}" text-anchor="end">${t}</text>`);
    }
    for (const t of ticks) {
      out.push(`<line x1="${n2(x(t))}" y1="${bottom}" x2="${n2(x(t))}" y2="${bottom + 5}" stroke="#333333"/>`,
        `<text x="${n2(x(t))}" y="${bottom + 18}" text-anchor="middle">${t.toFixed(decimals)}</text>`);
    }
    const units = pts[0].epsUnits;
    out.push(
      `<path class="axes" d="M${left} ${top}V${bottom}H${left + PANEL.width}" fill="none" stroke="#333333"/>`,
      `<text class="x-label" x="${n2(left + PANEL.width / 2)}" y="${bottom + 36}" text-anchor="middle">eps (${escapeXml(units)} units)</text>`,
      `<text class="y-label" transform="translate(${ox + 16} ${n2(top + PANEL.height / 2)}) rotate(-90)" text-anchor="middle">accuracy (%)</text>`,
    );
    for (const s of panel.series) {
      const g = s.points[0];
      const color = modelColor(g.model);
      const dash = dashOf(g);
      const dashAttr = dash ? ` stroke-dasharray="${dash}"` : '';
      // The band needs a spread: drawn when some point has more than one seed (sd of one seed counts as 0).
      if (s.points.some((p) => p.n > 1)) {
        const sd = (p: AggregateGroup) => (Number.isFinite(p.sd) ? p.sd : 0);
        const upper = s.points.map((p) => `${n2(x(p.eps))} ${n2(y(p.mean + sd(p)))}`);
        const lower = [...s.points].reverse().map((p) => `${n2(x(p.eps))} ${n2(y(p.mean - sd(p)))}`);
        out.push(`<path class="band" d="M${[...upper, ...lower].join('L')}Z" fill="${color}" fill-opacity="0.15" stroke="none"/>`);
      }
      out.push(`<path class="series" d="M${s.points.map((p) => `${n2(x(p.eps))} ${n2(y(p.mean))}`).join('L')}" fill="none" stroke="${color}" stroke-width="2"${dashAttr}/>`);
      for (const p of s.points) {
        const tip = `${s.label} (${p.epsUnits} eps), eps ${fmtEps(p.eps)}: ${fmt1(p.mean)} ± ${fmt1(p.sd)} (n = ${p.n})`;
        out.push(`<circle class="point" cx="${n2(x(p.eps))}" cy="${n2(y(p.mean))}" r="3" fill="${color}"><title>${escapeXml(tip)}</title></circle>`);
      }
    }
    out.push('</g>');
  }

  // One legend for every panel: colours are models, dashes are attacks.
  let ly = 40 + PANEL.top;
  out.push(`<text class="legend-head" x="${legendX}" y="${ly}" font-weight="bold">model</text>`);
  for (const m of models) {
    ly += LEGEND_ROW;
    out.push(`<line x1="${legendX}" y1="${ly - 4}" x2="${legendX + 24}" y2="${ly - 4}" stroke="${modelColor(m)}" stroke-width="3"/>`,
      `<text class="legend" x="${legendX + 30}" y="${ly}">${escapeXml(m)}</text>`);
  }
  ly += LEGEND_ROW * 1.5;
  out.push(`<text class="legend-head" x="${legendX}" y="${ly}" font-weight="bold">attack</text>`);
  for (const a of attacks) {
    ly += LEGEND_ROW;
    const dash = DASHES[attacks.indexOf(a) % DASHES.length];
    out.push(`<line x1="${legendX}" y1="${ly - 4}" x2="${legendX + 24}" y2="${ly - 4}" stroke="#333333" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`,
      `<text class="legend" x="${legendX + 30}" y="${ly}">${escapeXml(a)}</text>`);
  }
  out.push('</svg>', '');
  return out.join('\n');
}
