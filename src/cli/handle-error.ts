/** The one error exit: typed errors become "error: what (what to do)" and a status. */
import { CommanderError } from 'commander';
import { GlanceError, errors, isFileSystemError } from '../errors.js';

/** Usage errors exit 2 (as GNU tools do), so an engine can tell them from a failed job and not retry them. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
  if (err instanceof GlanceError) return err.code === 'BAD_OPTION' ? 2 : 1;
  return 1;
}

export function formatError(err: unknown): string {
  // The machine's limits and the user's paths (a full disk, a directory under a file): a message, no stack.
  if (isFileSystemError(err)) err = errors.fileSystem(err);
  if (err instanceof GlanceError) {
    return `error: ${err.message}${err.suggestion ? `\n  what to do: ${err.suggestion}` : ''}`;
  }
  if (err instanceof Error) return `error: ${err.stack ?? err.message}`;
  return `error: ${String(err)}`;
}
