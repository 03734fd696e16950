/**
 * Tables I-III as a dot-and-interval plot: a row per measured cell, our mean as
 * a dot in the model's colour on its 95% CI, every seed as a small ring (so an
 * outlier seed is seen, not averaged away) and the paper's single run as a black
 * diamond. Grouped under a heading per sub-table; rows without results are left
 * out (the tables say what is missing).
 */
import { fmt1 } from './format.js';
import type { PaperCell } from './paper-tables.js';
import { CHAR_WIDTH, escapeXml, modelColor, n2, svgOpen } from './svg.js';

const ROW = 20;
const HEAD = 26;
const AXIS = { width: 400, top: 76 };
const clip = (x: number) => Math.min(100, Math.max(0, x));

/** 'Table II · mnist · pixel eps · test split · crafted on NormalNet'. */
const heading = (c: PaperCell) => `Table ${c.table} · ${c.setting}`;

function valueText(c: PaperCell): string {
  const g = c.group;
  const ci = Number.isFinite(g.ci95) ? ` [${fmt1(clip(g.mean - g.ci95))}–${fmt1(clip(g.mean + g.ci95))}]` : '';
  return `${fmt1(g.mean)}${ci} n=${g.n}` + (c.paper !== undefined ? ` · paper ${fmt1(c.paper)}` : '');
}

export function renderCellsSvg(cells: readonly PaperCell[], opts: { title?: string } = {}): string {
  const title = opts.title ?? 'Tables I–III: ours (mean, 95% CI, each seed) and the paper';
  const labelW = CHAR_WIDTH * Math.max(12, ...cells.map((c) => c.label.length)) + 16;
  const textW = CHAR_WIDTH * Math.max(10, ...cells.map((c) => valueText(c).length)) + 16;
  const left = labelW;
  const right = left + AXIS.width;
  const headings = [...new Set(cells.map(heading))];
  const bodyH = cells.length * ROW + headings.length * HEAD;
  const W = Math.max(right + 12 + textW, CHAR_WIDTH * Math.max(0, ...headings.map((h) => h.length)) + 24, 560);
  const H = AXIS.top + bodyH + 44;
  const x = (acc: number) => left + (clip(acc) / 100) * AXIS.width;
  const out = svgOpen(W, H, title);

  // Legend: what each mark means.
  const ly = 46;
  out.push(
    `<line x1="12" y1="${ly}" x2="40" y2="${ly}" stroke="#555555" stroke-width="2"/>`,
    `<circle cx="26" cy="${ly}" r="4.5" fill="#555555"/>`,
    `<text class="legend" x="46" y="${ly + 4}">ours: mean and 95% CI</text>`,
    `<circle cx="212" cy="${ly}" r="2.5" fill="#ffffff" stroke="#555555"/>`,
    `<text class="legend" x="220" y="${ly + 4}">one seed</text>`,
    `<path d="M300 ${ly - 5}L305 ${ly}L300 ${ly + 5}L295 ${ly}Z" fill="#000000"/>`,
    `<text class="legend" x="312" y="${ly + 4}">paper (one run)</text>`,
  );
  if (cells.length === 0) {
    out.push(`<text x="${n2(W / 2)}" y="${AXIS.top + 10}" text-anchor="middle" fill="#888888">no results for Tables I–III</text>`, '</svg>', '');
    return out.join('\n');
  }

  const top = AXIS.top;
  const bottom = top + bodyH;
  for (const t of [0, 20, 40, 60, 80, 100]) {
    out.push(`<line x1="${n2(x(t))}" y1="${top - 4}" x2="${n2(x(t))}" y2="${bottom}" stroke="#e5e5e5"/>`,
      `<text x="${n2(x(t))}" y="${top - 8}" text-anchor="middle">${t}</text>`,
      `<text x="${n2(x(t))}" y="${bottom + 16}" text-anchor="middle">${t}</text>`);
  }
  out.push(`<text class="x-label" x="${n2(left + AXIS.width / 2)}" y="${bottom + 34}" text-anchor="middle">accuracy (%)</text>`);

  let y = top;
  let current = '';
  for (const c of cells) {
    if (heading(c) !== current) {
      current = heading(c);
      out.push(`<text class="heading" x="8" y="${y + 17}" font-weight="bold">${escapeXml(current)}</text>`);
      y += HEAD;
    }
    const cy = y + ROW / 2;
    const g = c.group;
    const color = modelColor(g.model);
    out.push(`<g class="cell"><title>${escapeXml(`${heading(c)} · ${c.label}: ${valueText(c)}`)}</title>`,
      `<text x="${left - 8}" y="${cy + 4}" text-anchor="end">${escapeXml(c.label)}</text>`);
    if (Number.isFinite(g.ci95)) {
      out.push(`<line class="ci" x1="${n2(x(g.mean - g.ci95))}" y1="${cy}" x2="${n2(x(g.mean + g.ci95))}" y2="${cy}" stroke="${color}" stroke-width="2"/>`);
    }
    for (const s of g.perSeed) {
      out.push(`<circle class="seed" cx="${n2(x(s.accuracy))}" cy="${cy}" r="2.5" fill="#ffffff" fill-opacity="0.6" stroke="${color}"><title>seed ${s.seed}: ${fmt1(s.accuracy)}</title></circle>`);
    }
    out.push(`<circle class="mean" cx="${n2(x(g.mean))}" cy="${cy}" r="4.5" fill="${color}"/>`);
    if (c.paper !== undefined) {
      const px = x(c.paper);
      out.push(`<path class="paper" d="M${n2(px)} ${cy - 5}L${n2(px + 5)} ${cy}L${n2(px)} ${cy + 5}L${n2(px - 5)} ${cy}Z" fill="#000000"/>`);
    }
    out.push(`<text class="value" x="${right + 12}" y="${cy + 4}">${escapeXml(valueText(c))}</text>`, '</g>');
    y += ROW;
  }
  out.push('</svg>', '');
  return out.join('\n');
}
