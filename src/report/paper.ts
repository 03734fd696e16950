/**
 * The numbers the paper reports (Das, "GlanceAgain: Adversarial Defense using
 * Recurrent Layers", Tables I-III): one run each, no error bars, MNIST, FGSM at
 * eps = 0.3, measured on the training data (Section IV.B); the paper does not
 * say whether eps is in pixel or normalised units. Reports print them beside our
 * means so the difference is visible, never to replace a measurement.
 */
import type { ModelName } from '../experiments/types.js';

export type PaperTable = 'I' | 'II' | 'III';

/**
 * The paper's full reference, printed at the end of every report. Its text names
 * no venue or date; its latest reference was accessed in August 2022.
 */
export const PAPER_REFERENCE =
  'Anudeep Das. "GlanceAgain: Adversarial Defense using Recurrent Layers". David R. Cheriton School of Computer Science, ' +
  'University of Waterloo, Waterloo, Ontario, Canada (a38das@uwaterloo.ca). Undated; its latest reference was accessed in August 2022.';

/** The dataset the paper's numbers are for. */
export const PAPER_DATASET = 'mnist';
/** The FGSM step the paper used for Tables II and III. */
export const PAPER_EPS = 0.3;
/** Transfer attacks in Table II were crafted on this model. */
export const PAPER_TRANSFER_SOURCE: ModelName = 'NormalNet';

export const PAPER_TABLES: Record<PaperTable, { caption: string; accuracy: Record<ModelName, number> }> = {
  I: {
    caption: 'Accuracy of models on unperturbed data',
    accuracy: { NormalNet: 97.1, AdvNet: 97.3, GlanceAgain: 98.2 },
  },
  II: {
    caption: 'Accuracy of models on adversarial samples crafted for NormalNet',
    accuracy: { NormalNet: 6.7, AdvNet: 94.4, GlanceAgain: 91.2 },
  },
  III: {
    caption: 'Accuracy of models on their respective crafted adversarial samples',
    accuracy: { NormalNet: 6.7, AdvNet: 87.1, GlanceAgain: 52.1 },
  },
};

/**
 * The paper's accuracy (%) for a table and model, or undefined where the paper
 * has no comparable number (another dataset; for Table II another source).
 */
export function paperAccuracy(
  table: PaperTable,
  model: ModelName,
  where: { dataset: string; source?: ModelName },
): number | undefined {
  if (where.dataset !== PAPER_DATASET) return undefined;
  if (table === 'II' && where.source !== undefined && where.source !== PAPER_TRANSFER_SOURCE) return undefined;
  return PAPER_TABLES[table].accuracy[model];
}
