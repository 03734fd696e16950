/**
 * The native backend in worker threads: two workers load @tensorflow/tfjs-node at
 * the same time, each trains a tiny dense model with Adam and posts its losses;
 * the workers end, and two new ones do it again. Skipped when `npm run native`
 * has not built the backend (test/backend-node.test.ts says so in the output).
 */
import { Worker } from 'node:worker_threads';
import { beforeAll, describe, expect, it } from 'vitest';
import { configureNativeThreads } from '../src/backend/native-env.js';
import { nativeStatus } from './fixtures/native-status.js';

const FIXTURE = new URL('./fixtures/native-train.mjs', import.meta.url);

interface TrainReport {
  threadId: number;
  backend: string;
  tensorflow: string;
  losses: number[];
}

function trainInWorker(): Promise<TrainReport> {
  return new Promise((resolve, reject) => {
    const w = new Worker(FIXTURE);
    let report: TrainReport | undefined;
    w.once('message', (m: TrainReport) => {
      report = m;
      void w.terminate();
    });
    w.once('error', reject);
    w.once('exit', (code) => (report ? resolve(report) : reject(new Error(`worker exited with ${code} and no report`))));
  });
}

describe.skipIf(!nativeStatus().built)('native backend in worker threads', () => {
  // As the coordinator does: TensorFlow reads its thread settings with getenv(), which
  // sees the main thread's process.env writes but not a worker's private copy.
  beforeAll(() => {
    configureNativeThreads();
  });

  it('loads in two workers at once, trains, ends, and does it again', async () => {
    const rounds: TrainReport[][] = [];
    for (let round = 0; round < 2; round++) rounds.push(await Promise.all([trainInWorker(), trainInWorker()]));
    const reference = rounds[0]![0]!;
    for (const r of rounds.flat()) {
      expect(r.backend).toBe('tensorflow');
      expect(r.tensorflow).toMatch(/^2\.\d+\.\d+/);
      expect(r.losses).toHaveLength(25);
      expect(r.losses.every(Number.isFinite)).toBe(true);
      expect(r.losses.at(-1)!).toBeLessThan(r.losses[0]! / 2);
      // Same seeds, same computation: every worker of every round agrees.
      r.losses.forEach((l, i) => expect(l).toBeCloseTo(reference.losses[i]!, 5));
    }
    expect(new Set(rounds.flat().map((r) => r.threadId)).size).toBe(4);
  });
});
