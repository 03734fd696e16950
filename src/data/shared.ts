/**
 * A dataset loaded once into SharedArrayBuffers. The coordinator builds it; every
 * worker thread receives the same buffers (structured clone shares, never copies,
 * a SharedArrayBuffer) and wraps them in a view. Pixels stay uint8 (47 MB for the
 * MNIST train split instead of 188 MB as float32); a view scales batches to
 * [0,1] float32 on demand.
 */
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { readMaybeGzip, parseIdxImages, parseIdxLabels } from './idx.js';
import type { DatasetSource } from './registry.js';
import { errors } from '../errors.js';
import type { Split } from '../experiments/types.js';

export interface SharedSplit {
  count: number;
  rows: number;
  cols: number;
  pixels: SharedArrayBuffer;
  labels: SharedArrayBuffer;
}

/** Plain data: safe to post to a worker (the buffers are shared, not copied). */
export interface SharedDataset {
  name: string;
  /** SHA-256 of the four files' (decompressed) bytes, in a fixed order: the data fingerprint. */
  fingerprint: string;
  sha256: Record<string, string>;
  train: SharedSplit;
  test: SharedSplit;
}

function toShared(bytes: Uint8Array): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(bytes.length);
  new Uint8Array(sab).set(bytes);
  return sab;
}

function loadSplit(imagesFile: string, labelsFile: string, hashes: Record<string, string>): SharedSplit {
  const imgBytes = readMaybeGzip(imagesFile);
  const lblBytes = readMaybeGzip(labelsFile);
  hashes[imagesFile] = createHash('sha256').update(imgBytes).digest('hex');
  hashes[labelsFile] = createHash('sha256').update(lblBytes).digest('hex');
  const images = parseIdxImages(imgBytes, imagesFile);
  const labels = parseIdxLabels(lblBytes, labelsFile);
  if (labels.count !== images.count) {
    throw errors.dataInvalid(labelsFile, `${images.count} labels (one per image in ${imagesFile})`, `${labels.count}`);
  }
  return {
    count: images.count,
    rows: images.rows,
    cols: images.cols,
    pixels: toShared(images.pixels),
    labels: toShared(labels.labels),
  };
}

export function loadShared(source: DatasetSource): SharedDataset {
  const sha256: Record<string, string> = {};
  const train = loadSplit(source.files.trainImages, source.files.trainLabels, sha256);
  const test = loadSplit(source.files.testImages, source.files.testLabels, sha256);
  if (train.rows !== test.rows || train.cols !== test.cols) {
    throw errors.dataInvalid(source.files.testImages, `${train.rows}x${train.cols} images like the train split`, `${test.rows}x${test.cols}`);
  }
  const all = createHash('sha256');
  for (const f of [source.files.trainImages, source.files.trainLabels, source.files.testImages, source.files.testLabels]) {
    all.update(sha256[f]);
  }
  return { name: source.name, fingerprint: all.digest('hex').slice(0, 16), sha256, train, test };
}

/**
 * The dataset's four files by path, size and modification time, hashed: a resume
 * whose data has the stamp its run recorded takes the fingerprint recorded with
 * it instead of reading and hashing the files again (open-run.ts); a file
 * replaced or rewritten gets a new stamp and is hashed.
 */
export function datasetStamp(source: DatasetSource): string {
  const h = createHash('sha256');
  for (const f of Object.values(source.files).sort()) {
    const s = statSync(f);
    h.update(`${f}\0${s.size}\0${s.mtimeMs}\0`);
  }
  return h.digest('hex').slice(0, 16);
}

/** A worker's window on one split: no copy of the pixels, float batches on demand. */
export class SplitView {
  readonly count: number;
  readonly size: number;
  readonly pixels: Uint8Array;
  readonly labels: Uint8Array;

  constructor(split: SharedSplit) {
    this.count = split.count;
    this.size = split.rows * split.cols;
    this.pixels = new Uint8Array(split.pixels);
    this.labels = new Uint8Array(split.labels);
  }

  /** Images at the given indices as float32 in [0,1], [indices.length * size]. */
  images(indices: ArrayLike<number>, out = new Float32Array(indices.length * this.size)): Float32Array {
    const size = this.size;
    for (let k = 0; k < indices.length; k++) {
      const src = indices[k] * size;
      const dst = k * size;
      for (let j = 0; j < size; j++) out[dst + j] = this.pixels[src + j] / 255;
    }
    return out;
  }

  /** Contiguous range [start, end) as float32 in [0,1]. */
  range(start: number, end: number, out = new Float32Array((end - start) * this.size)): Float32Array {
    const px = this.pixels.subarray(start * this.size, end * this.size);
    for (let j = 0; j < px.length; j++) out[j] = px[j] / 255;
    return out;
  }

  labelsAt(indices: ArrayLike<number>, out = new Int32Array(indices.length)): Int32Array {
    for (let k = 0; k < indices.length; k++) out[k] = this.labels[indices[k]];
    return out;
  }
}

export function splitView(ds: SharedDataset, split: Split): SplitView {
  return new SplitView(ds[split]);
}

export function labelHistogram(split: SharedSplit): number[] {
  const h = new Array(10).fill(0);
  const labels = new Uint8Array(split.labels);
  for (let i = 0; i < labels.length; i++) h[labels[i]]++;
  return h;
}
