/**
 * Tables I-III of the paper, ours beside theirs: one row per model, one table
 * per (dataset, eps units, split). A row whose cell is missing stays in the
 * table and says so when its model has other results in that setting (a silently
 * dropped row reads as "not applicable"); a model the setting has no results for
 * at all gets no row, and a table without a single measured cell is left out.
 */
import { MODELS, type ModelName } from '../experiments/types.js';
import type { AggregateGroup } from './aggregate.js';
import { DASH, fmt1, fmtEps, fmtSigned1, fmtSummary, markdownTable, sameEps, settingKey, settingLabel, type Setting } from './format.js';
import { PAPER_EPS, PAPER_TABLES, PAPER_TRANSFER_SOURCE, paperAccuracy, type PaperTable } from './paper.js';

export interface Row {
  label: string;
  group?: AggregateGroup;
  /** Undefined: the paper has no comparable number. */
  paper?: number;
  /** What to print when group is missing. */
  missing: string;
  /** The model the row is about (a row is left out where its model has no results at all). */
  model?: ModelName;
}

const HEADER = ['Model', 'Ours: mean ± sd (95% CI) [n]', 'Paper', 'Ours − paper'];
const RIGHT = [false, true, true, true];

function renderRows(rows: Row[]): string[] {
  return markdownTable(HEADER, rows.map((r) => [
    r.label,
    r.group ? fmtSummary(r.group) : r.missing,
    r.paper === undefined ? DASH : fmt1(r.paper),
    r.group && r.paper !== undefined ? fmtSigned1(r.group.mean - r.paper) : DASH,
  ]), RIGHT);
}

/** 'no results at eps 0.3 (measured at eps 0.1, 0.2)' when the series exists at other eps. */
function missingAtEps(others: AggregateGroup[]): string {
  const have = [...new Set(others.map((g) => g.eps))].sort((a, b) => a - b).map(fmtEps);
  return `no results at eps ${fmtEps(PAPER_EPS)}` + (have.length ? ` (measured at eps ${have.join(', ')})` : '');
}

/** Picks the group at the paper's eps among a series' groups, and marks it shown. */
function atPaperEps(series: AggregateGroup[], shown: Set<AggregateGroup>): AggregateGroup | undefined {
  const g = series.find((x) => sameEps(x.eps, PAPER_EPS));
  if (g) shown.add(g);
  return g;
}

/** 'AdvNet (trained in pixel units)' when AdvNet's training units are not the reading's (an older store), else the model. */
function trainedLabel(g: AggregateGroup, reading?: Setting): string {
  return g.advUnits !== undefined && g.advUnits !== reading?.epsUnits ? `${g.model} (trained in ${g.advUnits} units)` : g.model;
}

export function tableI(gs: AggregateGroup[], s: Setting, shown: Set<AggregateGroup>): Row[] {
  return MODELS.flatMap((model): Row[] => {
    const clean = gs.filter((g) => g.threat === 'clean' && g.attack === 'none' && g.model === model);
    const paper = paperAccuracy('I', model, s);
    if (clean.length === 0) return [{ label: model, paper, missing: 'no clean results', model }];
    clean.forEach((g) => shown.add(g));
    // Several clean groups for one model only differ in a coordinate the grid recorded: name it
    // (AdvNet: the eps reading it was trained for).
    const label = (g: AggregateGroup) => (g.advUnits !== undefined ? trainedLabel(g) : `${model} (eps ${fmtEps(g.eps)})`);
    return clean.map((g) => ({ label: clean.length > 1 ? label(g) : model, group: g, paper, missing: '', model }));
  });
}

export function tableII(gs: AggregateGroup[], s: Setting, source: ModelName, shown: Set<AggregateGroup>): Row[] {
  return MODELS.map((model): Row => {
    const paper = paperAccuracy('II', model, { dataset: s.dataset, source });
    const series = gs.filter((g) => g.threat === 'transfer' && g.attack === 'fgsm' && g.source === source && g.model === model);
    const group = atPaperEps(series, shown);
    if (group || model !== source) return { label: group ? trainedLabel(group, s) : model, group, paper, missing: missingAtEps(series), model };
    // Transfer from a model to itself is the white-box attack on it, as in the paper's Table II.
    const own = gs.filter((g) => g.threat === 'white-box' && g.attack === 'fgsm' && g.model === model && (g.source ?? model) === model);
    const wb = atPaperEps(own, shown);
    return { label: wb ? `${model} (white-box)` : model, group: wb, paper, missing: missingAtEps(series), model };
  });
}

export function tableIII(gs: AggregateGroup[], s: Setting, eotLabel: string, shown: Set<AggregateGroup>): Row[] {
  const whiteBox = (model: ModelName, attack: string) =>
    gs.filter((g) => g.threat === 'white-box' && g.attack === attack && g.model === model && (g.source ?? model) === model);
  return MODELS.flatMap((model): Row[] => {
    const fgsm = whiteBox(model, 'fgsm');
    const group = atPaperEps(fgsm, shown);
    const rows: Row[] = [{ label: group ? trainedLabel(group, s) : model, group, paper: paperAccuracy('III', model, s), missing: missingAtEps(fgsm), model }];
    // EOT is beyond the paper: always for the randomised GlanceAgain, for others only if measured.
    const eot = whiteBox(model, 'eot-fgsm');
    if (model === 'GlanceAgain' || eot.length > 0) {
      rows.push({ label: `${model} (${eotLabel})`, group: atPaperEps(eot, shown), missing: missingAtEps(eot), model });
    }
    return rows;
  });
}

/** The models transfer FGSM was crafted on, one Table II each; the paper's source when there is none yet. */
function transferSources(gs: AggregateGroup[]): ModelName[] {
  const found = gs.filter((g) => g.threat === 'transfer' && g.attack === 'fgsm' && g.source !== undefined).map((g) => g.source!);
  return MODELS.filter((m) => found.includes(m) || (m === PAPER_TRANSFER_SOURCE && found.length === 0));
}

const INTRO: Record<PaperTable, string> = {
  I: 'Clean accuracy (threat clean, attack none).',
  II: `FGSM transfer at eps ${fmtEps(PAPER_EPS)}: adversarial images crafted on the source model, evaluated on each model.`,
  III: `White-box FGSM at eps ${fmtEps(PAPER_EPS)}: adversarial images crafted on each model itself.`,
};

/**
 * Renders Tables I-III for every setting present. Adds every group it prints
 * to `shown`, so the caller can list the rest under "Other attacks".
 */
export function renderPaperTables(
  groups: readonly AggregateGroup[],
  settings: readonly Setting[],
  opts: { eotLabel: string },
  shown: Set<AggregateGroup>,
): string[] {
  const inSetting = (s: Setting) => groups.filter((g) => settingKey(g) === settingKey(s));
  const out: string[] = [];
  /** The table of `rows` under `title`, without rows of models absent from `gs`; nothing when no cell is measured. */
  const table = (title: string, gs: AggregateGroup[], rows: Row[]): string[] => {
    if (!rows.some((r) => r.group)) return [];
    const kept = rows.filter((r) => r.group || r.model === undefined || gs.some((g) => g.model === r.model));
    return [title, '', ...renderRows(kept), ''];
  };
  for (const t of ['I', 'II', 'III'] as const) {
    out.push(`## Table ${t}: ${PAPER_TABLES[t].caption}`, '', INTRO[t], '');
    if (t === 'III') {
      out.push(`${opts.eotLabel} averages the input gradient over random transform draws (Athalye et al. 2018), ` +
        'the adaptive attack a randomised model calls for; the paper reports only the single-draw attack.', '');
    }
    if (settings.length === 0) out.push('No results yet.', '');
    const before = out.length;
    const none = () => {
      if (settings.length > 0 && out.length === before) out.push(`None of this run's results fit this table: ${missingAtEps(groups.filter((g) => g.threat !== 'clean'))}.`, '');
    };
    if (t === 'I') {
      // Clean accuracy has no eps, so no eps units: one table per dataset and split.
      const seen = new Set<string>();
      for (const s of settings) {
        const key = `${s.dataset}|${s.split}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const gs = groups.filter((g) => g.dataset === s.dataset && g.split === s.split);
        out.push(...table(`### ${s.dataset} · ${s.split} split`, gs, tableI(gs, s, shown)));
      }
      none();
      continue;
    }
    for (const s of settings) {
      const gs = inSetting(s);
      if (t === 'II') {
        for (const source of transferSources(gs)) out.push(...table(`### ${settingLabel(s)} · crafted on ${source}`, gs, tableII(gs, s, source, shown)));
        continue;
      }
      out.push(...table(`### ${settingLabel(s)}`, gs, tableIII(gs, s, opts.eotLabel, shown)));
    }
    none();
  }
  return out;
}

/** One measured cell of Tables I-III, for the plots and the per-seed table. */
export interface PaperCell {
  table: PaperTable;
  /** The sub-table: 'mnist · test split' (Table I), 'mnist · pixel eps · test split · crafted on NormalNet' (II). */
  setting: string;
  /** The row label as in the table: 'GlanceAgain (EOT-10)', 'NormalNet (white-box)'. */
  label: string;
  group: AggregateGroup;
  /** Undefined: the paper has no comparable number. */
  paper?: number;
}

/** The cells of Tables I-III that have results, in the tables' order; rows without results are left out. */
export function paperCells(groups: readonly AggregateGroup[], settings: readonly Setting[], opts: { eotLabel: string }): PaperCell[] {
  const out: PaperCell[] = [];
  const shown = new Set<AggregateGroup>();
  const add = (table: PaperTable, setting: string, rows: Row[]) => {
    for (const r of rows) if (r.group) out.push({ table, setting, label: r.label, group: r.group, ...(r.paper !== undefined ? { paper: r.paper } : {}) });
  };
  const seen = new Set<string>();
  for (const s of settings) {
    const key = `${s.dataset}|${s.split}`;
    if (seen.has(key)) continue;
    seen.add(key);
    add('I', `${s.dataset} · ${s.split} split`, tableI(groups.filter((g) => g.dataset === s.dataset && g.split === s.split), s, shown));
  }
  for (const s of settings) {
    const gs = groups.filter((g) => settingKey(g) === settingKey(s));
    for (const source of transferSources(gs)) {
      add('II', `${settingLabel(s)} · crafted on ${source}`, tableII(gs, s, source, shown));
    }
  }
  for (const s of settings) add('III', settingLabel(s), tableIII(groups.filter((g) => settingKey(g) === settingKey(s)), s, opts.eotLabel, shown));
  return out;
}
