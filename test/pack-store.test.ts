/**
 * --pack in the coordinator without training (a fake executor that writes
 * checkpoint files): auto is stored as a number and a resume keeps it whatever
 * --workers says; a store from before --pack resumes unchanged; a pack job counts
 * as done only while every one of its seeds' checkpoints is there.
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runExperiment, type RunIo } from '../src/coordinator/run.js';
import type { Executor } from '../src/coordinator/scheduler.js';
import type { TrainRecord } from '../src/coordinator/store.js';
import type { ExperimentConfig, RunOptions } from '../src/experiments/config.js';
import { jobSeeds } from '../src/experiments/grid.js';
import { PRESETS } from '../src/experiments/presets.js';
import { checkpointName } from '../src/workers/spec.js';

const config: ExperimentConfig = {
  ...PRESETS.smoke,
  seeds: [1, 2, 3],
  models: ['NormalNet', 'GlanceAgain'],
  threats: ['white-box'],
  attacks: ['fgsm'],
  epsUnits: ['pixel'],
  eval: { ...PRESETS.smoke.eval, shards: 1, limit: 100 },
};

/** Records what it ran; a training job writes a checkpoint manifest per seed, as a worker does. */
function fakeExecutor(dir: string): Executor & { ran: string[] } {
  const ran: string[] = [];
  return {
    ran,
    async run(job) {
      ran.push(job.id);
      if (job.kind !== 'train') return { seconds: 0 };
      const seeds = jobSeeds(job);
      const records: TrainRecord[] = seeds.map((seed) => {
        const checkpoint = checkpointName(job.model, seed);
        writeFileSync(join(dir, 'checkpoints', `${checkpoint}.json`), '{}');
        return { model: job.model, seed, checkpoint, history: [], backend: { name: 'node', tfjs: 'test' }, ...(seeds.length > 1 ? { packedWith: seeds } : {}) };
      });
      return job.seeds ? { trains: records, seconds: 0 } : { train: records[0], seconds: 0 };
    },
  };
}

const options = (out: string, workers: number): RunOptions => ({ out, workers, quiet: true, json: false, forceNew: false, reuseCheckpoints: [] });
const io = (exec: Executor): RunIo => ({ mode: 'quiet', command: 'test', executor: exec, backend: 'node' });
const storedPack = (out: string) => (JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as { pack: unknown }).pack;

describe('--pack in the run store', () => {
  it('stores auto as a number; a resume with another worker count keeps it and redoes nothing', async () => {
    const out = mkdtempSync(join(tmpdir(), 'glance-pack-'));
    const first = fakeExecutor(out);
    const s = await runExperiment({ ...config, pack: 'auto' }, options(out, 2), io(first));
    expect(s.errored).toEqual([]);
    expect(storedPack(out)).toBe(2);
    expect(first.ran.filter((id) => id.startsWith('train/')).sort()).toEqual([
      'train/GlanceAgain/seed3',
      'train/GlanceAgain/seeds1+2',
      'train/NormalNet/seed3',
      'train/NormalNet/seeds1+2',
    ]);
    const lines = readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.find((l) => l.jobId === 'train/NormalNet/seeds1+2').trains.map((t: TrainRecord) => [t.seed, t.packedWith])).toEqual([
      [1, [1, 2]],
      [2, [1, 2]],
    ]);
    // auto with 1 worker would be 3: the stored 2 wins, and nothing runs again.
    const again = fakeExecutor(out);
    const r = await runExperiment({ ...config, pack: 'auto' }, options(out, 1), io(again));
    expect(again.ran).toEqual([]);
    expect(r.skipped).toBe(s.total);
    expect(storedPack(out)).toBe(2);
    // An explicit other number is a different experiment.
    await expect(runExperiment({ ...config, pack: 3 }, options(out, 1), io(fakeExecutor(out)))).rejects.toThrow(/pack: stored 2, now 3/);
  });

  it('resolves auto to 1 on wasm', async () => {
    const out = mkdtempSync(join(tmpdir(), 'glance-pack-'));
    await runExperiment({ ...config, pack: 'auto' }, options(out, 2), { ...io(fakeExecutor(out)), backend: 'wasm' });
    expect(storedPack(out)).toBe(1);
  });

  it('resumes a store from before --pack (no pack in config.json) with its job ids', async () => {
    const out = mkdtempSync(join(tmpdir(), 'glance-pack-'));
    await runExperiment({ ...config, pack: 1 }, options(out, 2), io(fakeExecutor(out)));
    const stored = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    delete stored.pack;
    writeFileSync(join(out, 'config.json'), JSON.stringify(stored));
    const again = fakeExecutor(out);
    await runExperiment({ ...config, pack: 'auto' }, options(out, 2), io(again));
    expect(again.ran).toEqual([]);
  });

  it('a pack job is done only while every one of its seeds has its checkpoint', async () => {
    const out = mkdtempSync(join(tmpdir(), 'glance-pack-'));
    await runExperiment({ ...config, pack: 2 }, options(out, 2), io(fakeExecutor(out)));
    rmSync(join(out, 'checkpoints', 'NormalNet-seed2.json'));
    const again = fakeExecutor(out);
    await runExperiment({ ...config, pack: 2 }, options(out, 2), io(again));
    expect(again.ran).toEqual(['train/NormalNet/seeds1+2']);
  });
});
