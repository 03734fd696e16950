/** Entry point of the `glance` command. */
import { Command, CommanderError } from 'commander';
import { buildProgram } from './program.js';
import { exitCodeFor, formatError } from './handle-error.js';

/** Commander exits by itself unless each command is told not to; then every exit goes through exitCodeFor. */
const overrideExits = (c: Command): void => {
  c.exitOverride();
  c.commands.forEach(overrideExits);
};

/**
 * An error thrown outside the command's promise (an event handler, a timer) ends
 * the process with the same message and status as any other, not a raw trace.
 */
const fail = (err: unknown) => {
  console.error(formatError(err));
  process.exit(exitCodeFor(err));
};
// A reader that stops early (`glance --help | head`): stop quietly with 128 + SIGPIPE, as Unix tools do
// (every stored result is already on disk; a run resumes).
process.stdout.on('error', (e: NodeJS.ErrnoException) => (e.code === 'EPIPE' ? process.exit(141) : fail(e)));
process.on('uncaughtException', fail);
process.on('unhandledRejection', fail);

try {
  const program = buildProgram();
  overrideExits(program);
  await program.parseAsync(process.argv);
} catch (err) {
  // Commander has already printed its own help and usage errors.
  if (!(err instanceof CommanderError)) console.error(formatError(err));
  process.exitCode = exitCodeFor(err);
}
