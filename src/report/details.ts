/**
 * The long sections at the end of the report, below the tables: the cells of
 * Tables I-III seed by seed (with the dot-and-interval plot), the training
 * curves, the gallery of clean and adversarial digits when it was made, and the
 * paper's full reference with how to cite this software.
 */
import type { TrainRecord } from '../experiments/types.js';
import { fmt1, markdownTable } from './format.js';
import { PAPER_REFERENCE } from './paper.js';
import { max, min } from './stats.js';
import type { PaperCell } from './paper-tables.js';
import { renderTrainingTable, trainingCurves } from './training.js';

/** Fewer seeds than this give no robust spread to judge one against. */
const MIN_SEEDS_FOR_OUTLIERS = 4;

/**
 * Seeds far from the others: a robust z-score above 3, |x - median| > 3 * 1.4826 * MAD
 * (the MAD scaled to a normal sd), and more than 1 point away, from four seeds on.
 */
export function outlierSeeds(values: ReadonlyArray<{ seed: number; accuracy: number }>): Set<number> {
  const out = new Set<number>();
  if (values.length < MIN_SEEDS_FOR_OUTLIERS) return out;
  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    const m = s.length >> 1;
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
  };
  const med = median(values.map((v) => v.accuracy));
  const mad = median(values.map((v) => Math.abs(v.accuracy - med)));
  for (const v of values) {
    const d = Math.abs(v.accuracy - med);
    if (d > 1 && d > 3 * 1.4826 * mad) out.add(v.seed);
  }
  return out;
}

/**
 * Tables I-III seed by seed: a column per seed, so one seed far from the others
 * is seen rather than averaged away (in bold when outlierSeeds says so); the
 * spread is max - min over seeds.
 */
export function perSeedSection(cells: readonly PaperCell[], plotFile?: string): string[] {
  if (cells.length === 0) return [];
  const seeds = [...new Set(cells.flatMap((c) => c.group.perSeed.map((s) => s.seed)))].sort((a, b) => a - b);
  const rows = cells.map((c) => {
    const by = new Map(c.group.perSeed.map((s) => [s.seed, s.accuracy]));
    const far = outlierSeeds(c.group.perSeed);
    const values = c.group.perSeed.map((s) => s.accuracy);
    return [
      `${c.table}`, c.setting, c.label,
      ...seeds.map((s) => (by.has(s) ? (far.has(s) ? `**${fmt1(by.get(s)!)}**` : fmt1(by.get(s)!)) : '')),
      values.length > 1 ? fmt1(max(values) - min(values)) : '',
    ];
  });
  const header = ['Table', 'Setting', 'Row', ...seeds.map((s) => `seed ${s}`), 'Spread'];
  return [
    '## Per-seed values',
    '',
    'Accuracy (%) of every cell of Tables I–III for each seed; spread: the largest minus the smallest seed. ' +
      `In bold: a seed far from the others (from ${MIN_SEEDS_FOR_OUTLIERS} seeds on: more than 1 point and more than 3 robust sd, ` +
      '3 × 1.4826 × the median absolute deviation, from the median).' +
      (plotFile ? ' The plot shows the same cells: our mean on its 95% CI, each seed as a ring, the paper as a diamond.' : ''),
    '',
    ...(plotFile ? [`![Tables I–III, mean, 95% CI and each seed beside the paper](${plotFile})`, ''] : []),
    ...markdownTable(header, rows, header.map((_, i) => i >= 3)),
    '',
  ];
}

export function trainingSection(records: readonly TrainRecord[] | undefined, plotFile?: string): string[] {
  const curves = trainingCurves(records ?? []);
  if (curves.length === 0) return [];
  const reused = curves.some((c) => c.seeds.some((s) => s.reused));
  return [
    '## Training curves',
    '',
    'Loss and accuracy on the training batches as they were trained (AdvNet: on its clean batches), mean ± sd over seeds.' +
      (reused ? ' Models reused from an earlier run (--reuse-checkpoints) show the history stored with their checkpoint.' : ''),
    '',
    ...renderTrainingTable(curves),
    '',
    ...(plotFile ? [`![training curves](${plotFile})`, ''] : []),
  ];
}

export function gallerySection(galleryFile?: string): string[] {
  if (!galleryFile) return [];
  return [
    '## Adversarial digits',
    '',
    'The first images of the evaluation split, clean and under white-box FGSM on each model (first seed) at up to three of the run\'s eps ' +
      'in each unit; under each image the prediction on the clean and on the attacked image, a wrong one marked ✗. Made by `glance gallery`.',
    '',
    `![clean and adversarial digits](${galleryFile})`,
    '',
  ];
}

export function referenceSection(): string[] {
  return [
    '## Reference',
    '',
    `Paper reproduced: ${PAPER_REFERENCE}`,
    '',
    'To cite this software, see CITATION.cff in the glance-bench repository.',
    '',
  ];
}
