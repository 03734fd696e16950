/** `glance merge DIR... --out DIR`: joins run stores of the same experiment (e.g. --shard slices), then writes the report. */
import { Command } from 'commander';
import { mergeStores } from '../coordinator/merge.js';
import { writeRunReport } from '../coordinator/write-report.js';
import { GlanceError } from '../errors.js';

export function mergeCommand(): Command {
  return new Command('merge')
    .description('join run stores of the same experiment (e.g. --shard slices) into one, then write its report; exits non-zero when a shard is missing or jobs are not done, unless --partial')
    .argument('<dirs...>', 'run directories')
    .requiredOption('--out <dir>', 'the merged run directory (merging into it again adds what is new)')
    .option('--partial', 'merge what is there: skip directories without a run, accept missing shards and jobs not done')
    .option('--reports <dir>', 'where the report goes (in <dir>/<name of --out>/)', 'reports')
    .action(async (dirs: string[], opts: { out: string; partial?: boolean; reports: string }) => {
      const merged = mergeStores(dirs, opts.out, { partial: !!opts.partial });
      const report = await writeRunReport(opts.out, opts.reports);
      const from = dirs.length - merged.skipped.length;
      console.log(`merged ${from} store${from === 1 ? '' : 's'} into ${opts.out} (${merged.jobs} jobs); report${report.partial ? ' (partial)' : ''}: ${report.dir}/report.md`);
      if (merged.skipped.length) console.log(`skipped (no run): ${merged.skipped.join(', ')}`);
      const missing = merged.grid?.missing ?? [];
      if (!missing.length) return;
      const shards = merged.shards;
      const where = shards
        ? [
            ...shards.absent.map((i) => `shard ${i}/${shards.count}: not merged`),
            ...shards.incomplete.filter((s) => !shards.absent.includes(s.index)).map((s) => `shard ${s.index}/${shards.count}: ${s.left} jobs not done${s.errored ? ` (${s.errored} errored)` : ''}`),
          ].join('; ')
        : `e.g. ${missing.slice(0, 3).join(', ')}`;
      const what = `${missing.length} of ${merged.grid!.total} jobs not done (${where})`;
      if (opts.partial) {
        console.log(`partial: ${what}`);
        return;
      }
      throw new GlanceError(
        'STORE_INCOMPLETE',
        `the merge is incomplete: ${what}`,
        `rerun ${shards ? 'those shards' : 'those runs'} (the same command with the same --out resumes; glance slurm: DIR/submit.sh with their indices), then merge again; --partial accepts an incomplete merge`,
      );
    });
}
