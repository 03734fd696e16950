/** `glance compare RUN_A RUN_B [--out DIR]`: per-cell differences B − A of two runs, with their 95% CI. */
import { Command } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { RunStore } from '../coordinator/store.js';
import { GlanceError } from '../errors.js';
import { withAdvUnits } from '../experiments/readings.js';
import type { EvalResult } from '../experiments/types.js';
import { compareRuns, renderComparison, renderComparisonCsv } from '../report/compare.js';

/** The results of a run's finished jobs (the last line of each job counts). */
function runResults(dir: string): EvalResult[] {
  const store = new RunStore(dir);
  store.requireRun();
  const config = store.readConfig();
  const { lines } = store.read();
  const results = [...lines.values()].flatMap((l) => (l.status === 'done' ? (l.results ?? []) : []));
  return withAdvUnits(results, config);
}

export function compareCommand(): Command {
  return new Command('compare')
    .description('per-cell differences B − A of the mean accuracy of two runs, with a 95% CI (paired by seed when it can be, else Welch)')
    .argument('<run-a>', 'run directory A')
    .argument('<run-b>', 'run directory B')
    .option('--out <dir>', 'write compare.md and compare.csv there instead of printing the Markdown')
    .action(async (runA: string, runB: string, opts: { out?: string }) => {
      const comparison = compareRuns(runResults(runA), runResults(runB));
      if (comparison.rows.length === 0) {
        throw new GlanceError(
          'STORE_CONFLICT',
          `${runA} and ${runB} share no cells (${comparison.onlyA} cells only in A, ${comparison.onlyB} only in B): ` +
            'a cell is the same dataset, model (and AdvNet units), threat, attack, source, gradient, eps, eps units and split',
          'compare runs that measured some of the same cells; glance report DIR shows what each run measured',
        );
      }
      const names = { a: basename(runA.replace(/\/+$/, '')), b: basename(runB.replace(/\/+$/, '')) };
      const markdown = renderComparison(comparison, names);
      if (!opts.out) {
        process.stdout.write(markdown);
        return;
      }
      mkdirSync(opts.out, { recursive: true });
      writeFileSync(join(opts.out, 'compare.md'), markdown);
      writeFileSync(join(opts.out, 'compare.csv'), await renderComparisonCsv(comparison));
      console.log(`compared ${comparison.rows.length} cells: ${join(opts.out, 'compare.md')}, ${join(opts.out, 'compare.csv')}`);
    });
}
