/** `glance merge DIR... --out DIR`: joins run stores of the same experiment (e.g. --shard slices), then writes the report. */
import { Command } from 'commander';
import { mergeStores } from '../coordinator/merge.js';
import { writeRunReport } from '../coordinator/write-report.js';

export function mergeCommand(): Command {
  return new Command('merge')
    .description('join run stores of the same experiment (e.g. --shard slices) into one, then write its report')
    .argument('<dirs...>', 'run directories')
    .requiredOption('--out <dir>', 'the merged run directory')
    .action(async (dirs: string[], opts: { out: string }) => {
      const { jobs } = mergeStores(dirs, opts.out);
      const report = await writeRunReport(opts.out);
      console.log(`merged ${dirs.length} stores into ${opts.out} (${jobs} jobs); report${report.partial ? ' (partial)' : ''}: ${report.dir}/report.md`);
    });
}
