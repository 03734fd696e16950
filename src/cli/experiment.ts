/** `glance reproduce`, `glance sweep` and `glance run`: one experiment run, resumable, then its report. */
import { Command } from 'commander';
import { writeGallery } from '../coordinator/gallery.js';
import { runExperiment } from '../coordinator/run.js';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { reportDir, writeRunReport } from '../coordinator/write-report.js';
import { jsonLine, progressMode, type ProgressMode } from '../coordinator/progress.js';
import { GlanceError } from '../errors.js';
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
  const mode = progressMode(opts);
  const command = ['npx glance', ...process.argv.slice(2)].join(' ');
  const summary = await runExperiment(config, opts, { mode, command });
  // An interrupted run gets its report too: partial, with what is missing. A resume that ran nothing keeps a report newer than the store.
  const current = summary.ranNow === 0 && !summary.interrupted ? upToDate(opts.out, raw.reports) : undefined;
  const report = current ?? (await writeRunReport(opts.out, raw.reports));
  const file = `${report.dir}/report.md`;
  if (mode === 'json') process.stdout.write(jsonLine('report', { runDir: opts.out, report: file, partial: report.partial, rewritten: !current }));
  else console.error(`report${report.partial ? ' (partial)' : ''}${current ? ' (up to date; glance report rewrites it)' : ''}: ${file}`);
  if (!summary.interrupted && !current) await galleryAfterRun(opts.out, raw.reports, mode);
  if (summary.interrupted) {
    if (mode !== 'json') console.error(`interrupted; resume with: ${command}`);
    process.exitCode = 130;
  } else if (summary.errored.length || summary.blocked.length) process.exitCode = 1;
}

/** The run's report when it is newer than everything it is made from (its store and config), else undefined. */
function upToDate(runDir: string, reportsRoot = 'reports'): { dir: string; partial: boolean } | undefined {
  const dir = reportDir(runDir, reportsRoot);
  const mtime = (f: string) => (existsSync(f) ? statSync(f).mtimeMs : NaN);
  const written = mtime(join(dir, 'report.md'));
  const sources = [mtime(join(runDir, 'results.jsonl')), mtime(join(runDir, 'config.json'))];
  if (!(sources.every((t) => t < written))) return undefined;
  return { dir, partial: /partial results/i.test(readFileSync(join(dir, 'report.md'), 'utf8').slice(0, 4096)) };
}

const EXAMPLES = (name: string, lines: string[]) => `\nExamples:\n${lines.map((l) => `  $ glance ${name} ${l}`).join('\n')}\n`;

export function experimentCommands(): Command[] {
  const reproduce = addExperimentOptions(
    new Command('reproduce').description("reproduce the paper's Tables I-III (preset paper: 5 seeds, both eps units, transfer + white-box FGSM, EOT)"),
    'paper',
  )
    .addHelpText('after', EXAMPLES('reproduce', ['                                  # Tables I-III, 5 seeds (the same command resumes)', '--preset smoke --out runs/smoke   # the whole pipeline in a minute or two', '--seeds 10 --workers 2 --json     # JSON events on stdout, one per line']))
    .action(action);
  const sweep = addExperimentOptions(new Command('sweep').description('accuracy vs eps for FGSM and PGD, transfer and white-box (preset sweep)'), 'sweep')
    .addHelpText('after', EXAMPLES('sweep', ['--reuse-checkpoints runs/paper-2026-12-01/checkpoints   # evaluate a paper run\'s models only']))
    .action(action);
  const run = addExperimentOptions(new Command('run').description('run the experiment of a --config FILE.json (the shape of a run\'s config.json; flags override it)'), 'paper')
    .addHelpText('after', EXAMPLES('run', ['--config my.json --out runs/mine', '--config runs/old/config.json --out runs/old   # resume a run from its own config']))
    .action(async (raw: RawOptions) => {
      if (!raw.config) throw new GlanceError('BAD_OPTION', 'glance run: --config FILE is required (the experiment to run)', "give a JSON file with the shape of a run's config.json, or use glance reproduce --preset NAME");
      await action(raw);
    });
  return [reproduce, sweep, run];
}
