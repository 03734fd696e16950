/**
 * Typed errors with a code and a suggestion: what was wrong, where, and what to
 * do. The CLI has one handler that maps them to a message and an exit status.
 */
export type ErrorCode =
  | 'DATA_MISSING'
  | 'DATA_INVALID'
  | 'DATASET_UNKNOWN'
  | 'DATASET_NOT_INSTALLED'
  | 'BAD_OPTION'
  | 'BACKEND_UNAVAILABLE'
  | 'CHECKPOINT_INVALID'
  | 'STORE_CONFLICT'
  | 'STORE_FORMAT'
  | 'STORE_INCOMPLETE'
  | 'STORE_INVALID'
  | 'QUEUE_UNREACHABLE'
  | 'QUEUE_RUN'
  | 'RUN_LOCKED'
  | 'FILE_SYSTEM';

export class GlanceError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly suggestion?: string,
  ) {
    super(message);
    this.name = 'GlanceError';
  }
}

export const errors = {
  dataMissing: (file: string, what: string) =>
    new GlanceError('DATA_MISSING', `${what} not found: ${file}`, 'check the path, or pass --data-dir DIR holding the four IDX files'),
  dataInvalid: (file: string, expected: string, found: string) =>
    new GlanceError('DATA_INVALID', `${file}: expected ${expected}, found ${found}`, 'the file is damaged or not an IDX file; re-install the dataset'),
  datasetUnknown: (name: string, known: readonly string[]) =>
    new GlanceError('DATASET_UNKNOWN', `unknown dataset "${name}"; known datasets: ${known.join(', ')}`, 'or pass --data-dir DIR holding the four IDX files'),
  datasetNotInstalled: (name: string, dir: string, how: string) =>
    new GlanceError('DATASET_NOT_INSTALLED', `dataset "${name}" is not installed (looked in ${dir})`, how),
  badOption: (option: string, value: unknown, expected: string) =>
    new GlanceError('BAD_OPTION', `${option}: expected ${expected}, got ${JSON.stringify(value)}`),
  /** A file-system error (errno code) that is the machine's or the user's, not a bug: what failed, where, what to do. */
  fileSystem: (err: NodeJS.ErrnoException) => {
    const dest = (err as { dest?: string }).dest;
    const where = dest ? `${err.path} -> ${dest}` : (err.path ?? 'a file');
    const fix = FS_FIXES[err.code ?? ''] ?? 'check the path and its permissions';
    return new GlanceError('FILE_SYSTEM', `cannot ${err.syscall ?? 'use'} ${where}: ${FS_WHAT[err.code ?? ''] ?? err.code ?? err.message}`, fix);
  },
};

const FS_WHAT: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOTDIR: 'a part of the path is a file, not a directory',
  EISDIR: 'it is a directory',
  ENOENT: 'no such file or directory',
  EEXIST: 'it already exists',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files on the system',
  EIO: 'input/output error',
  ENAMETOOLONG: 'the name is too long',
};

const FS_FIXES: Record<string, string> = {
  ENOSPC: 'free some space (or choose another --out / --reports); finished jobs are stored, the same command resumes',
  EDQUOT: 'free some space within your quota; finished jobs are stored, the same command resumes',
  EACCES: 'choose a directory you can write to, or fix its permissions',
  EPERM: 'choose a directory you can write to, or fix its permissions',
  EROFS: 'choose a directory on a writable file system',
  ENOTDIR: 'choose a path whose parents are directories',
  EISDIR: 'pass a file, not a directory',
  EMFILE: 'raise the limit of open files (ulimit -n) or run fewer workers',
  ENFILE: 'close other programs or run fewer workers',
  EIO: 'check the disk or the network file system',
};

/** Whether `err` is a file-system error with an errno code (the machine's or the path's, not a bug). */
export function isFileSystemError(err: unknown): err is NodeJS.ErrnoException {
  const e = err as NodeJS.ErrnoException;
  return err instanceof Error && typeof e.code === 'string' && typeof e.syscall === 'string' && (e.code in FS_WHAT || e.code in FS_FIXES);
}
