/** A small fixed results set covering every section of the Markdown report. */
import type { EpochReport, EvalResult, TrainRecord } from '../src/experiments/types.js';
import type { ReportInput } from '../src/report/markdown.js';
import { encodeBits } from '../src/experiments/example-bits.js';
import { result, seeds } from './report-fixtures.js';

const wb = (model: EvalResult['model'], attack: EvalResult['attack'], eps: number) =>
  ({ model, threat: 'white-box', attack, source: model, eps }) as const;

/**
 * Per-example bits: the first `correct` images of each slice are the correct ones, so
 * every pair of models is nested (McNemar's discordant count is the difference of the
 * counts) and the worst case of a seed is its smallest count: both checkable by hand.
 */
const withPrefixBits = (r: EvalResult): EvalResult => ({
  ...r,
  correctBits: encodeBits(Array.from({ length: r.total }, (_, i) => (i < r.correct ? 1 : 0))),
});

export const GOLDEN_RESULTS: EvalResult[] = [
  ...seeds({ model: 'NormalNet' }, [971, 975, 969]),
  ...seeds({ model: 'AdvNet' }, [972, 974, 973]),
  // GlanceAgain seed 2 in two shards: 492 + 492 = 984.
  result({ model: 'GlanceAgain', seed: 1, correct: 980 }),
  result({ model: 'GlanceAgain', seed: 2, start: 0, end: 500, total: 500, correct: 492 }),
  result({ model: 'GlanceAgain', seed: 2, start: 500, end: 1000, total: 500, correct: 492 }),
  result({ model: 'GlanceAgain', seed: 3, correct: 979 }),
  // Table II without a NormalNet transfer line: its row falls back to white-box.
  ...seeds({ model: 'AdvNet', threat: 'transfer', attack: 'fgsm', source: 'NormalNet', eps: 0.3 }, [940, 945, 950]),
  ...seeds({ model: 'GlanceAgain', threat: 'transfer', attack: 'fgsm', source: 'NormalNet', eps: 0.3 }, [900, 910, 905]),
  ...seeds(wb('NormalNet', 'fgsm', 0.3), [60, 70, 65]),
  ...seeds(wb('AdvNet', 'fgsm', 0.3), [870, 880, 860]),
  ...seeds(wb('GlanceAgain', 'fgsm', 0.3), [500, 530, 520]),
  ...seeds(wb('GlanceAgain', 'eot-fgsm', 0.3), [300, 320, 310]),
  // Random sign noise hurting AdvNet more than white-box FGSM (87%): a sanity warning on Table III.
  ...seeds(wb('AdvNet', 'noise', 0.3), [800, 810, 790]),
  // Sweep: NormalNet at 0.1, 0.2, 0.3; AdvNet at 0.1 and 0.3.
  ...seeds(wb('NormalNet', 'fgsm', 0.1), [400, 420, 410]),
  ...seeds(wb('NormalNet', 'fgsm', 0.2), [150, 160, 155]),
  ...seeds(wb('AdvNet', 'fgsm', 0.1), [950, 955, 945]),
  ...seeds(wb('GlanceAgain', 'pgd', 0.3), [100, 120]),
  result({ ...wb('NormalNet', 'fgsm-targeted', 0.3), seed: 1, correct: 20, targetHits: 700 }),
  result({ ...wb('NormalNet', 'fgsm-targeted', 0.3), seed: 2, correct: 30, targetHits: 650 }),
  // A second dataset, one seed: no paper values, missing rows, sd and CI '—'.
  result({ dataset: 'fashion-mnist', model: 'NormalNet', correct: 850 }),
  result({ dataset: 'fashion-mnist', ...wb('NormalNet', 'fgsm', 0.1), correct: 120 }),
].map(withPrefixBits);

/** Two epochs of (loss, accuracy) per record. */
const history = (epochs: Array<[number, number]>): EpochReport[] =>
  epochs.map(([loss, accuracy], i) => ({ epoch: i + 1, epochs: epochs.length, loss, accuracy, samplesPerSec: 1000, seconds: 1 }));
const trained = (model: TrainRecord['model'], seed: number, epochs: Array<[number, number]>): TrainRecord => ({
  model, seed, checkpoint: `${model}-seed${seed}`, history: history(epochs), backend: { name: 'node', tfjs: '4.22.0' },
});

/** NormalNet over two seeds (losses 0.5, 0.3 then 0.2, 0.1), AdvNet one seed. */
export const GOLDEN_TRAINING: TrainRecord[] = [
  trained('AdvNet', 1, [[0.9, 70], [0.6, 80]]),
  trained('NormalNet', 2, [[0.3, 92], [0.1, 98]]),
  trained('NormalNet', 1, [[0.5, 90], [0.2, 96]]),
];

export const GOLDEN_INPUT: ReportInput = {
  title: 'GlanceAgain reproduction',
  protocol: [
    ['dataset', 'mnist, fashion-mnist'],
    ['eps units', 'pixel'],
    ['attacks', 'fgsm | eot-fgsm | pgd'],
    ['backend', 'node (TensorFlow 2.21.0, tfjs 4.22.0)'],
  ],
  results: GOLDEN_RESULTS,
  run: { preset: 'paper' },
  command: 'npx glance run --preset paper --seeds 3',
  svgFile: 'sweep.svg',
  eotSamples: 10,
  cellsSvgFile: 'cells.svg',
  training: GOLDEN_TRAINING,
  trainingSvgFile: 'training.svg',
  galleryFile: 'gallery.svg',
};
