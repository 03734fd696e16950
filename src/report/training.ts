/**
 * Training curves from the per-epoch loss and accuracy each training job stored
 * (TrainRecord.history in results.jsonl): per model, the mean over seeds per
 * epoch as a thick line and every seed as a thin one, as an SVG (loss and
 * accuracy side by side) and a short table of the first and last epoch.
 */
import { MODELS, type TrainRecord } from '../experiments/types.js';
import { DASH, fmtMeanSd, markdownTable } from './format.js';
import { summarize, type Summary } from './stats.js';
import { escapeXml, modelColor, n2, niceTicks, svgOpen } from './svg.js';

export interface TrainingCurve {
  /** 'AdvNet', or the checkpoint's name without its seed when one model was trained in several variants. */
  label: string;
  model: string;
  /** Sorted by seed; each seed's history sorted by epoch. */
  seeds: Array<{ seed: number; loss: number[]; accuracy: number[]; reused: boolean }>;
}

/** The checkpoint name without its seed part names the trained variant: 'AdvNet@pixel-seed3' -> 'AdvNet@pixel'. */
export const variantOf = (r: Pick<TrainRecord, 'checkpoint' | 'model'>) => r.checkpoint.replace(/-?seed\d+$/, '') || r.model;

/** One curve per trained variant (normally per model), in the models' order; one record per (variant, seed). */
export function trainingCurves(records: readonly TrainRecord[]): TrainingCurve[] {
  const byVariant = new Map<string, Map<number, TrainRecord>>();
  for (const r of records) {
    if (!r.history?.length) continue;
    const v = variantOf(r);
    if (!byVariant.has(v)) byVariant.set(v, new Map());
    byVariant.get(v)!.set(r.seed, r);
  }
  const rank = (m: string) => (MODELS as readonly string[]).indexOf(m);
  return [...byVariant.entries()]
    .map(([label, seeds]): TrainingCurve => {
      const list = [...seeds.values()].sort((a, b) => a.seed - b.seed);
      return {
        label,
        model: list[0].model,
        seeds: list.map((r) => {
          const h = [...r.history].sort((a, b) => a.epoch - b.epoch);
          return { seed: r.seed, loss: h.map((e) => e.loss), accuracy: h.map((e) => e.accuracy), reused: r.reusedFrom !== undefined };
        }),
      };
    })
    .sort((a, b) => rank(a.model) - rank(b.model) || (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
}

/** The per-epoch summary over the seeds that reached that epoch. */
function perEpoch(c: TrainingCurve, key: 'loss' | 'accuracy'): Summary[] {
  const epochs = c.seeds.reduce((m, s) => Math.max(m, s[key].length), -Infinity);
  return Array.from({ length: epochs }, (_, e) => summarize(c.seeds.flatMap((s) => (e < s[key].length ? [s[key][e]] : []))));
}

/** Losses fall to a few hundredths: three decimals, 'mean ± sd'. */
const fmtLoss = (s: Summary) => `${Number.isFinite(s.mean) ? s.mean.toFixed(3) : DASH} ± ${Number.isFinite(s.sd) ? s.sd.toFixed(3) : DASH}`;

export function renderTrainingTable(curves: readonly TrainingCurve[]): string[] {
  const rows = curves.map((c) => {
    const loss = perEpoch(c, 'loss');
    const acc = perEpoch(c, 'accuracy');
    return [c.label, String(c.seeds.length), String(loss.length), fmtLoss(loss[0]), fmtLoss(loss[loss.length - 1]), fmtMeanSd(acc[0]), fmtMeanSd(acc[acc.length - 1])];
  });
  const header = ['Model', 'Seeds', 'Epochs', 'Loss, epoch 1', 'Loss, last epoch', 'Train acc. (%), epoch 1', 'Train acc. (%), last epoch'];
  return markdownTable(header, rows, [false, true, true, true, true, true, true]);
}

const PANEL = { width: 320, height: 210, left: 56, top: 70, gap: 40 };
/** Variants of one model (AdvNet@pixel, AdvNet@normalized) share its colour and differ in dash. */
const VARIANT_DASHES = ['', '7 4', '2 3', '9 3 2 3'];

function dashes(curves: readonly TrainingCurve[]): string[] {
  return curves.map((c, i) => VARIANT_DASHES[curves.slice(0, i).filter((o) => o.model === c.model).length % VARIANT_DASHES.length]);
}
const dashAttr = (dash: string) => (dash ? ` stroke-dasharray="${dash}"` : '');

export function renderTrainingSvg(curves: readonly TrainingCurve[], opts: { title?: string } = {}): string {
  const title = opts.title ?? 'Training curves (mean over seeds, thin: each seed)';
  // reduce, not Math.max(...): one argument per seed (and epoch) overflows the stack past ~125,000.
  const epochs = curves.reduce((m, c) => c.seeds.reduce((n, s) => Math.max(n, s.loss.length), m), 1);
  const legendX = 2 * (PANEL.left + PANEL.width) + PANEL.gap + 16;
  const W = legendX + 40 + 7 * Math.max(10, ...curves.map((c) => c.label.length));
  const H = PANEL.top + PANEL.height + 56;
  const out = svgOpen(W, H, title);
  if (curves.length === 0) {
    out.push(`<text x="${n2(W / 2)}" y="${n2(H / 2)}" text-anchor="middle" fill="#888888">no training history</text>`, '</svg>', '');
    return out.join('\n');
  }
  const lossMax = curves.reduce((m, c) => c.seeds.reduce((n, s) => s.loss.reduce((k, x) => (Number.isFinite(x) ? Math.max(k, x) : k), n), m), 0);
  const panels = [
    { key: 'loss' as const, label: 'training loss', ...niceTicks(lossMax) },
    { key: 'accuracy' as const, label: 'training accuracy (%)', ticks: [0, 20, 40, 60, 80, 100], decimals: 0 },
  ];
  const dash = dashes(curves);
  const xt = niceTicks(epochs);
  const xTicks = xt.ticks.filter((t) => t >= 1 && Number.isInteger(t));
  panels.forEach((p, i) => {
    const left = PANEL.left + i * (PANEL.left + PANEL.width + PANEL.gap);
    const top = PANEL.top;
    const bottom = top + PANEL.height;
    const yMax = p.ticks[p.ticks.length - 1];
    // Epoch 1 at the left edge; a single epoch sits in the middle.
    const x = (epoch: number) => left + (epochs > 1 ? ((epoch - 1) / (epochs - 1)) * PANEL.width : PANEL.width / 2);
    const y = (v: number) => bottom - (Math.min(yMax, Math.max(0, v)) / yMax) * PANEL.height;
    out.push('<g class="panel">', `<text class="panel-title" x="${n2(left + PANEL.width / 2)}" y="${top - 12}" text-anchor="middle" font-weight="bold">${escapeXml(p.label)}</text>`);
    for (const t of p.ticks) {
      out.push(`<line x1="${left}" y1="${n2(y(t))}" x2="${left + PANEL.width}" y2="${n2(y(t))}" stroke="#e5e5e5"/>`,
        `<text x="${left - 6}" y="${n2(y(t) + 4)}" text-anchor="end">${t.toFixed(p.decimals)}</text>`);
    }
    for (const t of xTicks.length ? xTicks : [1]) {
      out.push(`<line x1="${n2(x(t))}" y1="${bottom}" x2="${n2(x(t))}" y2="${bottom + 5}" stroke="#333333"/>`,
        `<text x="${n2(x(t))}" y="${bottom + 18}" text-anchor="middle">${t}</text>`);
    }
    out.push(`<path class="axes" d="M${left} ${top}V${bottom}H${left + PANEL.width}" fill="none" stroke="#333333"/>`,
      `<text class="x-label" x="${n2(left + PANEL.width / 2)}" y="${bottom + 36}" text-anchor="middle">epoch</text>`);
    const path = (values: number[]) => values.map((v, e) => `${n2(x(e + 1))} ${n2(y(v))}`).join('L');
    curves.forEach((c, ci) => {
      const color = modelColor(c.model);
      for (const s of c.seeds) {
        out.push(`<path class="seed" d="M${path(s[p.key])}" fill="none" stroke="${color}" stroke-width="1" stroke-opacity="0.4"><title>${escapeXml(`${c.label} seed ${s.seed}`)}</title></path>`);
      }
      const mean = perEpoch(c, p.key).map((m) => m.mean);
      out.push(`<path class="mean" d="M${path(mean)}" fill="none" stroke="${color}" stroke-width="2.5"${dashAttr(dash[ci])}/>`);
      if (mean.length === 1) out.push(`<circle class="mean" cx="${n2(x(1))}" cy="${n2(y(mean[0]))}" r="3.5" fill="${color}"/>`);
    });
    out.push('</g>');
  });
  curves.forEach((c, i) => {
    const ly = PANEL.top + i * 18 + 4;
    out.push(`<line x1="${legendX}" y1="${ly}" x2="${legendX + 24}" y2="${ly}" stroke="${modelColor(c.model)}" stroke-width="3"${dashAttr(dash[i])}/>`,
      `<text class="legend" x="${legendX + 30}" y="${ly + 4}">${escapeXml(c.label)}</text>`);
  });
  out.push('</svg>', '');
  return out.join('\n');
}
