/**
 * Assembles the `glance` program from one file per command. Nothing here does
 * work; each command parses its options into plain data and calls domain code.
 */
import { Command } from 'commander';
import { createRequire } from 'node:module';
import { compareCommand } from './compare.js';
import { dataCommand } from './data-check.js';
import { doctorCommand } from './doctor.js';
import { experimentCommands } from './experiment.js';
import { galleryCommand } from './gallery.js';
import { mergeCommand } from './merge.js';
import { queueCommand } from './queue.js';
import { reportCommand } from './report.js';
import { slurmCommand } from './slurm.js';
import { statusCommand } from './status.js';
import { workerCommand } from './worker.js';

/** glance-bench's version, from its package.json (one directory up from src/, two from dist/src/). */
function version(): string {
  const require = createRequire(import.meta.url);
  for (const p of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = require(p) as { name?: string; version?: string };
      if (pkg.name === 'glance-bench' && pkg.version) return pkg.version;
    } catch {
      // not this one
    }
  }
  return 'unknown';
}

const EXAMPLES = `
Examples:
  $ glance reproduce --preset smoke            # the whole pipeline in a minute or two
  $ glance reproduce                           # Tables I-III, 5 seeds; the same command resumes
  $ glance status runs/paper-2026-12-01        # done, running, left, ETA; how to resume
  $ glance report runs/paper-2026-12-01        # write reports/<run>/report.md again
  $ glance run --config my.json --out runs/x --json > events.jsonl

Exit status: 0 done, 1 a job or the command failed, 2 a usage error, 130 interrupted (Ctrl-C).
`;

export function buildProgram(): Command {
  const program = new Command('glance')
    .description('Reproduce "GlanceAgain: Adversarial Defense using Recurrent Layers" with real statistics')
    .version(version(), '-V, --version', 'print the version of glance-bench')
    .showHelpAfterError()
    .configureHelp({ showGlobalOptions: true })
    .addHelpText('after', EXAMPLES);
  program.commandsGroup('Experiments:');
  for (const c of experimentCommands()) program.addCommand(c);
  program.commandsGroup('Runs and reports:');
  program.addCommand(statusCommand());
  program.addCommand(reportCommand());
  program.addCommand(compareCommand());
  program.addCommand(galleryCommand());
  program.addCommand(mergeCommand());
  program.commandsGroup('Beyond one machine:');
  program.addCommand(slurmCommand());
  program.addCommand(queueCommand());
  program.addCommand(workerCommand());
  program.commandsGroup('Data and set-up:');
  program.addCommand(dataCommand());
  program.addCommand(doctorCommand());
  return program;
}
