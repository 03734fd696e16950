/**
 * The long sections at the end of the report, below the tables: the cells of
 * Tables I-III seed by seed (with the dot-and-interval plot), the training
 * curves, the gallery of clean and adversarial digits when it was made, and the
 * paper's full reference with how to cite this software.
 */
import type { TrainRecord } from '../experiments/types.js';
import { fmt1, markdownTable } from './format.js';
import { PAPER_REFERENCE } from './paper.js';
import type { PaperCell } from './paper-tables.js';
import { renderTrainingTable, trainingCurves } from './training.js';

/**
 * Tables I-III seed by seed: a column per seed, so one seed far from the others
 * is seen rather than averaged away; the spread is max - min over seeds.
 */
export function perSeedSection(cells: readonly PaperCell[], plotFile?: string): string[] {
  if (cells.length === 0) return [];
  const seeds = [...new Set(cells.flatMap((c) => c.group.perSeed.map((s) => s.seed)))].sort((a, b) => a - b);
  const rows = cells.map((c) => {
    const by = new Map(c.group.perSeed.map((s) => [s.seed, s.accuracy]));
    const values = c.group.perSeed.map((s) => s.accuracy);
    return [
      `${c.table}`, c.setting, c.label,
      ...seeds.map((s) => (by.has(s) ? fmt1(by.get(s)!) : '')),
      values.length > 1 ? fmt1(Math.max(...values) - Math.min(...values)) : '',
    ];
  });
  const header = ['Table', 'Setting', 'Row', ...seeds.map((s) => `seed ${s}`), 'Spread'];
  return [
    '## Per-seed values',
    '',
    'Accuracy (%) of every cell of Tables I–III for each seed; spread: the largest minus the smallest seed. ' +
      (plotFile ? 'The plot shows the same cells: our mean on its 95% CI, each seed as a ring, the paper as a diamond.' : ''),
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
    'The first images of the evaluation split, clean and under white-box FGSM on each model (first seed) at the run\'s eps in each unit, ' +
      'with the label and each prediction (red: wrong). Made by `glance gallery`.',
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
