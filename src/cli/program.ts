/**
 * Assembles the `glance` program from one file per command. Nothing here does
 * work; each command parses its options into plain data and calls domain code.
 */
import { Command } from 'commander';
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

export function buildProgram(): Command {
  const program = new Command('glance')
    .description('Reproduce "GlanceAgain: Adversarial Defense using Recurrent Layers" with real statistics')
    .showHelpAfterError()
    .configureHelp({ showGlobalOptions: true });
  for (const c of experimentCommands()) program.addCommand(c);
  program.addCommand(statusCommand());
  program.addCommand(mergeCommand());
  program.addCommand(slurmCommand());
  program.addCommand(reportCommand());
  program.addCommand(compareCommand());
  program.addCommand(galleryCommand());
  program.addCommand(queueCommand());
  program.addCommand(workerCommand());
  program.addCommand(dataCommand());
  program.addCommand(doctorCommand());
  return program;
}
