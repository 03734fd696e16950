/**
 * `glance worker --redis URL`: one process of a worker fleet. Runs queued jobs of
 * any run in worker threads until stopped; SIGTERM finishes the running jobs and
 * takes no new one, a second SIGTERM hands them back to the queue at once.
 */
import { Command } from 'commander';
import { availableParallelism } from 'node:os';
import { DEFAULT_QUEUE, parseRedisUrl } from '../coordinator/queue.js';
import { errors } from '../errors.js';

const positive = (option: string, text: string, integer: boolean) => {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) throw errors.badOption(option, text, integer ? 'a positive integer' : 'a positive number');
  return n;
};

export function workerCommand(): Command {
  return new Command('worker')
    .description('take jobs from a BullMQ queue on Redis and run them in worker threads (any number of these, on machines that share the runs\' directories)')
    .requiredOption('--redis <url>', 'the Redis server: redis://host:port[/db], rediss://..., or unix:///path/to/redis.sock')
    .option('--queue <name>', 'the queue to serve', DEFAULT_QUEUE)
    .option('--workers <n>', 'jobs at once, each in a worker thread', String(availableParallelism()))
    .option('--lock-seconds <s>', "a job's lock: a killed worker's job runs again after about this long", '5')
    .action(async (o: { redis: string; queue: string; workers: string; lockSeconds: string }) => {
      // Loaded here, not with the program: the other commands start without BullMQ.
      const { runQueueWorker } = await import('../coordinator/queue-worker.js');
      const time = () => new Date().toISOString().slice(11, 19);
      await runQueueWorker({
        redis: parseRedisUrl(o.redis),
        queue: o.queue,
        workers: positive('--workers', o.workers, true),
        lockSeconds: positive('--lock-seconds', o.lockSeconds, false),
        log: (line) => process.stderr.write(`${time()} ${line}\n`),
      });
      // Everything is closed; a connection a library keeps open must not keep a stopped worker alive.
      setTimeout(() => process.exit(), 2000).unref();
    });
}
