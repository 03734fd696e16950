import { describe, expect, it } from 'vitest';
import { mergePeer, mergeSingle } from '../bench/merge.js';
import type { ChildResult, Measurement, PeerResult } from '../bench/types.js';

const memory = { rssMB: 1, heapMB: 1, externalMB: 1 };
const train = (perSec: number[]): Measurement => ({
  state: 'completed', kind: 'train', model: 'GlanceAgain', limit: 640, reps: perSec.length, perSec, perCpuSec: [...perSec], start: 0, end: 1, cpuStart: 0, cpuEnd: 1, memory,
});
const single = (measurements: Measurement[], maxRssMB: number): ChildResult => ({
  state: 'completed', backend: 'node', info: { name: 'node', tfjs: '4.22.0' }, mode: 'single', measurements, baselineRssMB: 100, maxRssMB,
});

describe('merging rounds', () => {
  it('pools the repetitions of matching measurements and keeps the larger peak', () => {
    const attack: Measurement = { ...train([5]), kind: 'attack', label: 'fgsm', images: 500 } as Measurement;
    const merged = mergeSingle([single([train([1, 2]), attack], 900), single([train([3])], 300)]);
    expect(merged.state === 'completed' && merged.mode === 'single' && merged.measurements.map((m) => m.state === 'completed' && [m.perSec, m.reps])).toEqual([
      [[1, 2, 3], 3],
      [[5], 1],
    ]);
    expect(merged.state === 'completed' && merged.maxRssMB).toBe(900);
  });

  it('a failed later round leaves the first as it is; all failed gives the first failure', () => {
    const skipped: ChildResult = { state: 'skipped', backend: 'node', reason: 'crashed' };
    const merged = mergeSingle([single([train([1])], 1), skipped]);
    expect(merged.state === 'completed' && merged.mode === 'single' && merged.measurements[0].state === 'completed' && merged.measurements[0].perSec).toEqual([1]);
    expect(mergeSingle([skipped, skipped])).toEqual(skipped);
  });

  it('pools a peer\'s repetitions per model', () => {
    const peer = (s: number[]): PeerResult => ({
      state: 'completed', peer: 'jax', python: 'python3', versions: {}, threads: {},
      models: { NormalNet: { samplesPerSec: s, cpuSamplesPerSec: [...s], stepsPerRep: 10 }, AdvNet: { error: 'boom' } },
    });
    const merged = mergePeer([peer([1, 2]), peer([3])]);
    expect(merged.state === 'completed' && merged.models.NormalNet).toMatchObject({ samplesPerSec: [1, 2, 3] });
    expect(merged.state === 'completed' && merged.models.AdvNet).toEqual({ error: 'boom' });
  });
});
