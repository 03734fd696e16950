import { describe, it, expect } from 'vitest';
import { Worker } from 'node:worker_threads';
import { resolveDataset } from '../src/data/registry.js';
import { loadShared, splitView } from '../src/data/shared.js';
import { workerScript } from '../src/workers/spawn.js';

function checksum(px: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < px.length; i++) sum = (sum + px[i] * (i % 251)) % 1_000_000_007;
  return sum;
}

describe('shared-memory dataset', () => {
  it('gives float batches in [0,1] that match the bytes', () => {
    const ds = loadShared(resolveDataset({ dataset: 'mnist' }));
    const view = splitView(ds, 'train');
    const x = view.images([5, 0]);
    expect(x.length).toBe(2 * 784);
    for (let j = 0; j < 784; j++) expect(x[784 + j]).toBeCloseTo(view.pixels[j] / 255, 7);
    expect(Math.max(...x)).toBeLessThanOrEqual(1);
    expect(Math.min(...x)).toBeGreaterThanOrEqual(0);
    expect(Array.from(view.range(0, 2))).toEqual(Array.from(view.images([0, 1])));
    expect(Array.from(view.labelsAt([0, 1, 2]))).toEqual([5, 0, 4]);
  });

  it('is read by a worker thread without a copy: same bytes, and a write is seen by the parent', async () => {
    const ds = loadShared(resolveDataset({ dataset: 'mnist' }));
    const view = splitView(ds, 'test');
    const expected = checksum(view.pixels);
    const expectedFirst = Array.from(view.images([0, 1]).subarray(150, 160));
    const script = workerScript('./fixtures/shared-reader.js', import.meta.url);
    const worker = new Worker(script.filename, { workerData: ds, argv: script.argv });
    const msg = await new Promise<{ sum: number; first: number[]; isShared: boolean; arrayBuffers: number }>(
      (resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      },
    );
    await worker.terminate();
    expect(msg.sum).toBe(expected);
    expect(msg.first).toEqual(expectedFirst);
    expect(msg.isShared).toBe(true);
    // The worker's write landed in the parent's memory: one buffer, no copy.
    expect(view.pixels[0]).toBe(77);
    // And the worker holds no private copy of the 7.8 MB test split (nor the 47 MB train split).
    expect(msg.arrayBuffers).toBeLessThan(4_000_000);
  });
});
