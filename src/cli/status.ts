/** `glance status DIR`: what is done, running (started, not finished), left and errored. */
import { Command } from 'commander';
import { statusText } from '../coordinator/status.js';

export function statusCommand(): Command {
  return new Command('status')
    .description('show what a run has done, what is left and what errored')
    .argument('<dir>', 'run directory')
    .action((dir: string) => console.log(statusText(dir)));
}
