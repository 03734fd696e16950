/** Entry point of the `glance` command. */
import { Command, CommanderError } from 'commander';
import { buildProgram } from './program.js';
import { exitCodeFor, formatError } from './handle-error.js';

/** Commander exits by itself unless each command is told not to; then every exit goes through exitCodeFor. */
const overrideExits = (c: Command): void => {
  c.exitOverride();
  c.commands.forEach(overrideExits);
};

try {
  const program = buildProgram();
  overrideExits(program);
  await program.parseAsync(process.argv);
} catch (err) {
  // Commander has already printed its own help and usage errors.
  if (!(err instanceof CommanderError)) console.error(formatError(err));
  process.exitCode = exitCodeFor(err);
}
