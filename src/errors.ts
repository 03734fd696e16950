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
  | 'QUEUE_RUN';

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
};
