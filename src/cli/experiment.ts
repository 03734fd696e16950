/** `glance reproduce`, `glance sweep` and `glance run`: one experiment run, resumable, then its report. */
import { Command } from 'commander';
import { writeGallery } from '../coordinator/gallery.js';
import { runExperiment } from '../coordinator/run.js';
import { writeRunReport } from '../coordinator/write-report.js';
import type { ProgressMode } from '../coordinator/progress.js';
import { addExperimentOptions, buildConfig, buildRunOptions, type RawOptions } from './experiment-options.js';

/**
 * The digit gallery after the report, when the run trained models: a failure
 * is said and does not fail the run, whose results and report are written.
 */
async function galleryAfterRun(out: string, reports: string | undefined, mode: ProgressMode): Promise<void> {
  try {
    const g = await writeGallery(out, { reportsRoot: reports });
    await writeRunReport(out, reports);
    if (mode !== 'json') console.error(`gallery: ${g.file}`);
  } catch (e) {
    if (mode !== 'json') console.error(`gallery not drawn: ${(e as Error).message} (glance gallery ${out} tries again)`);
  }
}

async function action(raw: RawOptions): Promise<void> {
  const config = buildConfig(raw);
  const opts = buildRunOptions(raw, config);
  const mode: ProgressMode = opts.json ? 'json' : opts.quiet ? 'quiet' : process.stderr.isTTY ? 'tty' : 'plain';
  const command = ['npx glance', ...process.argv.slice(2)].join(' ');
  const summary = await runExperiment(config, opts, { mode, command });
  if (!summary.interrupted) {
    const report = await writeRunReport(opts.out, raw.reports);
    if (mode !== 'json') console.error(`report${report.partial ? ' (partial)' : ''}: ${report.dir}/report.md`);
    await galleryAfterRun(opts.out, raw.reports, mode);
  }
  if (summary.errored.length || summary.blocked.length) process.exitCode = 1;
  if (summary.interrupted) process.exitCode = 130;
}

export function experimentCommands(): Command[] {
  const reproduce = addExperimentOptions(
    new Command('reproduce').description("reproduce the paper's Tables I-III (preset paper: 5 seeds, both eps units, transfer + white-box FGSM, EOT)"),
    'paper',
  ).action(action);
  const sweep = addExperimentOptions(new Command('sweep').description('accuracy vs eps for FGSM and PGD, transfer and white-box (preset sweep)'), 'sweep').action(action);
  const run = addExperimentOptions(new Command('run').description('run an experiment from --config FILE.json (flags override it)'), 'paper').action(action);
  return [reproduce, sweep, run];
}
