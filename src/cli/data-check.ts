/** `glance data check`: counts, image size, label histograms and SHA-256 of each file. */
import { Command, Option } from 'commander';
import { basename } from 'node:path';
import { resolveDataset, DATASET_NAMES } from '../data/registry.js';
import { loadShared, labelHistogram, type SharedDataset } from '../data/shared.js';

export interface DataCheckOptions {
  dataset?: string;
  dataDir?: string;
}

export function dataCheckReport(ds: SharedDataset, seconds: number): string {
  const lines = [`dataset ${ds.name} (fingerprint ${ds.fingerprint}), loaded into shared memory in ${seconds.toFixed(2)} s`];
  for (const split of ['train', 'test'] as const) {
    const s = ds[split];
    lines.push(`${split}: ${s.count} images of ${s.rows}x${s.cols}, ${s.count} labels`);
    lines.push(`  labels 0-9: ${labelHistogram(s).join(', ')}`);
  }
  for (const [file, hash] of Object.entries(ds.sha256)) lines.push(`sha256 ${hash}  ${basename(file)}`);
  return lines.join('\n');
}

export function dataCommand(): Command {
  const data = new Command('data').description('inspect datasets');
  data
    .command('check')
    .description('read and validate a dataset, print counts, label histograms and SHA-256 of each file')
    .addOption(new Option('--dataset <name>', `dataset: ${DATASET_NAMES.join(' | ')}`).default('mnist'))
    .option('--data-dir <dir>', 'a directory holding the four IDX files (plain or .gz); overrides --dataset')
    .action((opts: DataCheckOptions) => {
      const t0 = performance.now();
      const ds = loadShared(resolveDataset(opts));
      console.log(dataCheckReport(ds, (performance.now() - t0) / 1000));
    });
  return data;
}
