import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { encodeIdx, readIdxImages, readIdxLabels } from '../src/data/idx.js';
import { resolveDataset, sourceFromDir, IDX_FILES } from '../src/data/registry.js';
import { loadShared, labelHistogram } from '../src/data/shared.js';
import { GlanceError } from '../src/errors.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'glance-idx-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Three 2x3 images and their labels. */
function writeSmall(sub: string, opts: { gzip?: boolean; labels?: number } = {}): string {
  const d = join(dir, sub);
  rmSync(d, { recursive: true, force: true });
  mkdirSync(d);
  const px = Uint8Array.from({ length: 18 }, (_, i) => i * 10);
  const lb = Uint8Array.from({ length: opts.labels ?? 3 }, (_, i) => i % 10);
  const put = (name: string, bytes: Uint8Array) =>
    opts.gzip ? writeFileSync(join(d, name + '.gz'), gzipSync(bytes)) : writeFileSync(join(d, name), bytes);
  for (const split of ['train', 'test'] as const) {
    put(IDX_FILES[`${split}Images`], encodeIdx('images', px, [3, 2, 3]));
    put(IDX_FILES[`${split}Labels`], encodeIdx('labels', lb, [lb.length]));
  }
  return d;
}



function expectGlanceError(fn: () => unknown, pattern: RegExp): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(GlanceError);
    expect((e as Error).message).toMatch(pattern);
    return;
  }
  throw new Error('expected an error');
}

describe('IDX reader on the real MNIST files', () => {
  it('reads 60000/10000 images of 28x28 with the known label counts', () => {
    const ds = loadShared(resolveDataset({ dataset: 'mnist' }));
    expect([ds.train.count, ds.train.rows, ds.train.cols]).toEqual([60000, 28, 28]);
    expect(ds.test.count).toBe(10000);
    expect(labelHistogram(ds.train)).toEqual([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
    expect(labelHistogram(ds.test)).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
    expect(ds.sha256[resolveDataset({}).files.trainLabels]).toBe(
      '65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5',
    );
  });
});

describe('IDX reader on small files written here', () => {
  it('reads a good plain file and the same file gzipped', () => {
    for (const gzip of [false, true]) {
      const d = writeSmall(gzip ? 'gz' : 'plain', { gzip });
      const src = sourceFromDir(d);
      const img = readIdxImages(src.files.trainImages);
      expect([img.count, img.rows, img.cols]).toEqual([3, 2, 3]);
      expect(Array.from(img.pixels)).toEqual(Array.from({ length: 18 }, (_, i) => i * 10));
      expect(Array.from(readIdxLabels(src.files.testLabels).labels)).toEqual([0, 1, 2]);
    }
  });

  it('refuses a truncated image file, naming it and the sizes', () => {
    const f = join(dir, 'trunc-images');
    writeFileSync(f, encodeIdx('images', new Uint8Array(17), [3, 2, 3]));
    expectGlanceError(() => readIdxImages(f), /trunc-images: expected 34 bytes .*found 33 bytes \(truncated\)/);
  });

  it('refuses a truncated header', () => {
    const f = join(dir, 'short');
    writeFileSync(f, new Uint8Array([0, 0, 8]));
    expectGlanceError(() => readIdxLabels(f), /short: expected an IDX header of 8 bytes/);
  });

  it('refuses a wrong magic number', () => {
    const f = join(dir, 'wrong-magic');
    writeFileSync(f, encodeIdx('labels', new Uint8Array(30), [30]));
    expectGlanceError(() => readIdxImages(f), /wrong-magic: expected image magic 0x00000803, found magic 0x00000801/);
  });

  it('refuses labels out of range', () => {
    const f = join(dir, 'bad-label');
    writeFileSync(f, encodeIdx('labels', Uint8Array.of(1, 12), [2]));
    expectGlanceError(() => readIdxLabels(f), /labels 0-9, found label 12 at index 1/);
  });

  it('refuses a label count that does not match the image count', () => {
    const d = writeSmall('mismatch', { labels: 2 });
    expectGlanceError(() => loadShared(sourceFromDir(d)), /expected 3 labels \(one per image/);
  });

  it('refuses a damaged gzip stream', () => {
    const f = join(dir, 'bad.gz');
    writeFileSync(f, Buffer.concat([gzipSync(Buffer.alloc(100)).subarray(0, 12)]));
    expectGlanceError(() => readIdxImages(f), /bad.gz: expected a valid gzip stream/);
  });

  it('names the missing file and the directory option', () => {
    const d = writeSmall('missing');
    rmSync(join(d, IDX_FILES.testLabels));
    expectGlanceError(() => sourceFromDir(d), /t10k-labels-idx1-ubyte/);
  });

  it('lists the known datasets for an unknown name', () => {
    expectGlanceError(() => resolveDataset({ dataset: 'cifar' }), /unknown dataset "cifar"; known datasets: mnist, fashion-mnist/);
  });
});
