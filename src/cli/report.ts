/** `glance report DIR`: (re)writes reports/<run-id>/ from the run store alone. */
import { Command } from 'commander';
import { writeRunReport } from '../coordinator/write-report.js';

export function reportCommand(): Command {
  return new Command('report')
    .description('write report.md, results.csv and the plots (cells.svg, sweep.svg, training.svg) for a run, partial runs included; links gallery.svg when glance gallery made it')
    .argument('<dir>', 'run directory')
    .option('--reports <dir>', 'where reports go', 'reports')
    .action(async (dir: string, opts: { reports: string }) => {
      const r = await writeRunReport(dir, opts.reports);
      console.log(`report${r.partial ? ' (partial: some jobs are missing)' : ''}: ${r.dir}/report.md`);
    });
}
