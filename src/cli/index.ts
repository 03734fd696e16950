/** Entry point of the `glance` command. */
import { CommanderError } from 'commander';
import { buildProgram } from './program.js';
import { exitCodeFor, formatError } from './handle-error.js';

try {
  await buildProgram().exitOverride().parseAsync(process.argv);
} catch (err) {
  // Commander has already printed its own help and usage errors.
  if (!(err instanceof CommanderError)) console.error(formatError(err));
  process.exitCode = exitCodeFor(err);
}
