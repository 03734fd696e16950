/**
 * The report module's public API. Pure: callers hand in result lines and get
 * strings back (Markdown, CSV, SVG); writing files is the CLI's job.
 */
export { aggregate, compareGroups, groupSeeds, sumShards, ShardOverlapError } from './aggregate.js';
export type { AggregateGroup, GroupCoordinates, SeedResult, SeedValue } from './aggregate.js';
export { renderReport, type ReportInput } from './markdown.js';
export { renderResultsCsv, parseResultsCsv, csvProvenance, CSV_COLUMNS, type CsvRow, type CsvProvenance } from './csv.js';
export { renderSweepSvg, sweepPanels, modelColor } from './svg.js';
export { renderCellsSvg } from './cells-svg.js';
export { paperCells, type PaperCell } from './paper-tables.js';
export { trainingCurves, renderTrainingSvg, renderTrainingTable, variantOf, type TrainingCurve } from './training.js';
export { renderGallerySvg, type GalleryImages, type GalleryRow } from './gallery-svg.js';
export { settingsOf } from './format.js';
export { sweepGroups, seriesOf, type SweepSeries } from './sweep.js';
export { summarize, mean, sampleSd, ci95HalfWidth, predictionHalfWidth, min, max, type Summary } from './stats.js';
export { buildSummary, SUMMARY_FORMAT, SUMMARY_VERSION, type ReportSummary, type RunFacts } from './summary.js';
export { judge, paperVerdicts, verdictBlockers, VERDICT_RULE, type Verdict, type VerdictKind } from './verdicts.js';
export { runChecks, CHECKS, type CheckId, type CheckOutcome, type Warning } from './sanity.js';
export { mcnemar, pairedDifference, type McNemar } from './paired.js';
export { worstCases, type WorstCase } from './ensemble.js';
export { paperComparisons, type Comparison } from './comparisons.js';
export { studentTQuantile, studentTCdf } from './student-t.js';
export { PAPER_TABLES, PAPER_EPS, PAPER_DATASET, PAPER_TRANSFER_SOURCE, paperAccuracy, type PaperTable } from './paper.js';
