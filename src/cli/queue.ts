/**
 * `glance queue submit` puts a run's job grid on a BullMQ queue and follows it,
 * writing the run store as the workers finish jobs; `glance queue collect` does
 * the following part alone, for a run whose submitter stopped. Either writes the
 * report at the end, so `glance status` and `glance report` work as for a local run.
 */
import { Command, Option } from 'commander';
import { jsonLine, progressMode, type ProgressMode } from '../coordinator/progress.js';
import { DEFAULT_QUEUE, parseRedisUrl } from '../coordinator/queue.js';
import type { QueueRunResult } from '../coordinator/queue-run.js';
import { writeRunReport } from '../coordinator/write-report.js';
import { addExperimentOptions, buildConfig, buildRunOptions, type RawOptions } from './experiment-options.js';

interface QueueOptions {
  redis: string;
  queue: string;
  wait: boolean;
  reports: string;
  quiet?: boolean;
  json?: boolean;
}

const modeOf = (o: { quiet?: boolean; json?: boolean }): ProgressMode => progressMode(o);

/** The command line as recorded in the run, without a password in --redis. */
function commandLine(redisDisplay: string): string {
  const args = process.argv.slice(2);
  const i = args.findIndex((a) => a === '--redis' || a.startsWith('--redis='));
  if (i >= 0) {
    if (args[i] === '--redis') args[i + 1] = redisDisplay;
    else args[i] = `--redis=${redisDisplay}`;
  }
  return ['npx glance', ...args].join(' ');
}

async function conclude(r: QueueRunResult, out: string, redis: string, o: QueueOptions): Promise<void> {
  const mode = modeOf(o);
  const collect = `glance queue collect --redis ${redis} --out ${out}`;
  if (r.finished) {
    const report = await writeRunReport(out, o.reports);
    if (mode === 'json') process.stdout.write(jsonLine('report', { runDir: out, report: `${report.dir}/report.md`, partial: report.partial }));
    else console.error(`report${report.partial ? ' (partial)' : ''}: ${report.dir}/report.md`);
    if (r.summary.errored.length || r.summary.blocked.length) process.exitCode = 1;
    return;
  }
  if (r.summary.interrupted) {
    if (mode !== 'json') console.error(`the workers go on with run ${r.link.run}; to follow it again: ${collect}`);
    process.exitCode = 130;
    return;
  }
  if (mode !== 'json') {
    console.error(
      `run ${r.link.run} on queue ${r.link.queue}: ${r.summary.done}/${r.summary.total} jobs stored, ${r.added} added to the queue now; ` +
        `start workers with glance worker --redis ${redis}${r.link.queue === DEFAULT_QUEUE ? '' : ` --queue ${r.link.queue}`}, and store their results with: ${collect}`,
    );
  }
}

function addQueueOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--redis <url>', 'the Redis server: redis://host:port[/db], rediss://..., or unix:///path/to/redis.sock')
    .option('--no-wait', 'do not follow the run: store what is finished, queue what is ready, and return');
}

export function queueCommand(): Command {
  const queue = new Command('queue').description('run an experiment on a fleet of `glance worker` processes through a BullMQ queue on Redis');
  const submit = addQueueOptions(
    addExperimentOptions(new Command('submit').description('put a run on the queue, then follow it: store results as workers finish them, write the report'), 'paper'),
  )
    .addOption(new Option('--queue <name>', 'the queue (workers serve one queue)').default(DEFAULT_QUEUE))
    .action(async (raw: RawOptions & QueueOptions) => {
      const redis = parseRedisUrl(raw.redis);
      const config = buildConfig(raw);
      const opts = buildRunOptions(raw, config);
      // Loaded here, not with the program: the other commands start without BullMQ.
      const { submitRun } = await import('../coordinator/queue-run.js');
      const r = await submitRun(config, { ...opts, redis, queue: raw.queue, wait: raw.wait }, { mode: modeOf(raw), command: commandLine(redis.display) });
      await conclude(r, opts.out, redis.display, raw);
    });
  const collect = addQueueOptions(
    new Command('collect').description('follow a submitted run whose submitter stopped: store its finished jobs, queue what became ready, write the report'),
  )
    .requiredOption('--out <dir>', 'the run directory given to glance queue submit')
    .option('--reports <dir>', 'where the report of the run goes (in <dir>/<run-id>/)', 'reports')
    .option('--quiet', 'print only the summary')
    .option('--json', 'print machine-readable events, one JSON object per line')
    .action(async (o: QueueOptions & { out: string }) => {
      const redis = parseRedisUrl(o.redis);
      const { collectRun } = await import('../coordinator/queue-run.js');
      const r = await collectRun(o.out, { redis, queue: DEFAULT_QUEUE, wait: o.wait }, { mode: modeOf(o), command: commandLine(redis.display) });
      await conclude(r, o.out, redis.display, o);
    });
  return queue.addCommand(submit).addCommand(collect);
}
