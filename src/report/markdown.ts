/**
 * The Markdown report: the verdicts on the paper's claims and the sanity
 * checks first, then the paper's Tables I-III with our numbers beside theirs,
 * the paired comparisons and worst cases, every other attack, the eps sweep,
 * the protocol and the command that made it. Pure: results in, a string out,
 * the same string for the same input, so it is tested against a golden string.
 */
import type { EvalResult, TrainRecord } from '../experiments/types.js';
import { aggregate, type AggregateGroup } from './aggregate.js';
import { DASH, fmtEps, fmtMeanSd, fmtSummary, markdownTable, settingKey, settingLabel, settingsOf, type Setting } from './format.js';
import { gallerySection, perSeedSection, referenceSection, trainingSection } from './details.js';
import { paperCells, renderPaperTables } from './paper-tables.js';
import { renderComparisons } from './comparisons.js';
import { renderWorstCases } from './ensemble.js';
import { buildSummary, renderChecks, warningsOf, type RunFacts } from './summary.js';
import { seriesOf, sweepGroups } from './sweep.js';
import { renderVerdicts } from './verdicts.js';

export interface ReportInput {
  title: string;
  /** Two-column rows the caller fills: ['dataset', 'mnist'], ['eps units', 'pixel'], ['backend', 'node (...)']. */
  protocol: Array<[string, string]>;
  results: EvalResult[];
  /** Set while jobs are still missing: the report then opens with a warning. */
  partial?: { done: number; total: number; missing: string[] };
  /** The exact command that reproduces the run. */
  command: string;
  /** File name of the sweep plot next to the report, e.g. 'sweep.svg'. */
  svgFile?: string;
  /** K of EOT, for the row label 'GlanceAgain (EOT-10)'; results do not record it. */
  eotSamples?: number;
  /** How the run was made (preset, limits): a smoke or sliced run gives no verdicts. */
  run?: Omit<RunFacts, 'partial'>;
  /** File name of the Tables I-III dot-and-interval plot next to the report, e.g. 'cells.svg'. */
  cellsSvgFile?: string;
  /** The run's training records, for the training curves. */
  training?: TrainRecord[];
  /** File name of the training-curve plot, e.g. 'training.svg'. */
  trainingSvgFile?: string;
  /** File name of the digit gallery (glance gallery), when it was made. */
  galleryFile?: string;
}

/** How many missing jobs a partial report lists before it summarises the rest. */
const MAX_MISSING_LISTED = 30;

function partialBlock(p: NonNullable<ReportInput['partial']>): string[] {
  const listed = p.missing.slice(0, MAX_MISSING_LISTED).map((m) => `> - ${m}`);
  const more = p.missing.length - listed.length;
  return [
    `> **Warning: partial results.** ${p.done} of ${p.total} jobs are done; every number below covers ` +
      'only the finished jobs and will change when the run completes.',
    '>',
    `> Missing (${p.missing.length}):`,
    '>',
    ...listed,
    ...(more > 0 ? [`> - … and ${more} more`] : []),
    '',
  ];
}

function otherAttacks(groups: readonly AggregateGroup[], settings: readonly Setting[], shown: Set<AggregateGroup>): string[] {
  const rest = groups.filter((g) => !shown.has(g));
  const out = ['## Other attacks', ''];
  if (rest.length === 0) return [...out, 'None: every result is in Tables I–III.', ''];
  out.push('Every result not in Tables I–III. Target hits: the share (%) of adversarial images classified as the ' +
    "attack's target label, mean ± sd over seeds (targeted attacks only).", '');
  for (const s of settings) {
    const gs = rest.filter((g) => settingKey(g) === settingKey(s));
    if (gs.length === 0) continue;
    const rows = gs.map((g) => [
      // A run may measure both attack gradients: the non-default one is named.
      g.model, g.threat, g.gradient === 'float32' ? `${g.attack} (float32 gradient)` : g.attack, g.source ?? DASH, fmtEps(g.eps), fmtSummary(g),
      g.targetHitRate ? fmtMeanSd(g.targetHitRate) : DASH,
    ]);
    const header = ['Model', 'Threat', 'Attack', 'Source', 'eps', 'Accuracy: mean ± sd (95% CI) [n]', 'Target hits'];
    out.push(`### ${settingLabel(s)}`, '', ...markdownTable(header, rows, [false, false, false, false, true, true, true]), '');
  }
  return out;
}

function epsSweep(groups: readonly AggregateGroup[], settings: readonly Setting[], svgFile?: string): string[] {
  const swept = sweepGroups(groups);
  if (swept.length === 0) return [];
  const out = ['## Epsilon sweep', '', 'Accuracy (%) by eps, mean ± sd over seeds, for every attack measured at more than one eps.', ''];
  for (const s of settings) {
    const series = seriesOf(swept.filter((g) => settingKey(g) === settingKey(s)));
    if (series.length === 0) continue;
    const eps = [...new Set(series.flatMap((x) => x.points.map((p) => p.eps)))].sort((a, b) => a - b);
    const rows = eps.map((e) => [fmtEps(e), ...series.map((x) => {
      const p = x.points.find((q) => q.eps === e);
      return p ? fmtMeanSd(p) : DASH;
    })]);
    const header = ['eps', ...series.map((x) => x.label)];
    out.push(`### ${settingLabel(s)}`, '', ...markdownTable(header, rows, header.map(() => true)), '');
  }
  if (svgFile) out.push(`![sweep](${svgFile})`, '');
  return out;
}

/** A code fence longer than any backtick run in the command, so the command cannot end it. */
function codeBlock(text: string, lang: string): string[] {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((m) => m.length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return [`${fence}${lang}`, text, fence];
}

export function renderReport(input: ReportInput): string {
  const groups = aggregate(input.results);
  const settings = settingsOf(groups);
  const shown = new Set<AggregateGroup>();
  const eotLabel = input.eotSamples !== undefined ? `EOT-${input.eotSamples}` : 'EOT';
  const summary = buildSummary(input.results, { ...input.run, partial: input.partial });
  const lines: string[] = [`# ${input.title}`, ''];
  if (input.partial) lines.push(...partialBlock(input.partial));
  // The conclusions first, then the paper's tables they rest on; detail and protocol below.
  lines.push(...renderVerdicts(summary.verdicts, summary.blockers, (v) => warningsOf(summary, v)));
  lines.push(...renderChecks(summary));
  lines.push(
    'Cells: accuracy (%) as mean ± sample sd over seeds (Student-t 95% confidence interval of the mean, clipped to 0–100) [number of seeds]. ' +
      "Paper: the paper's single run (MNIST, measured on the training data, eps units not stated). " +
      'Ours − paper: our mean minus the paper value.',
    '',
  );
  lines.push(...renderPaperTables(groups, settings, { eotLabel }, shown));
  lines.push(...renderComparisons(summary.comparisons));
  lines.push(...renderWorstCases(summary.worstCases));
  lines.push(...otherAttacks(groups, settings, shown));
  lines.push(...epsSweep(groups, settings, input.svgFile));
  lines.push(...perSeedSection(paperCells(groups, settings, { eotLabel }), input.cellsSvgFile));
  lines.push(...trainingSection(input.training, input.trainingSvgFile));
  lines.push(...gallerySection(input.galleryFile));
  lines.push('## Protocol', '', ...markdownTable(['Setting', 'Value'], input.protocol), '');
  lines.push('## How to reproduce', '', ...codeBlock(input.command, 'sh'), '');
  lines.push(...referenceSection());
  return lines.join('\n');
}
