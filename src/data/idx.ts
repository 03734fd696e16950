/**
 * Reader for the IDX format of MNIST and Fashion-MNIST (LeCun et al.): a
 * big-endian header (magic 0x00000801 labels / 0x00000803 images, then the
 * dimensions) followed by unsigned bytes. Plain or gzipped. Every header field is
 * checked against the file's size so a truncated or foreign file fails loudly.
 */
import { readFileSync, existsSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { errors } from '../errors.js';

export const IDX_LABELS_MAGIC = 0x00000801;
export const IDX_IMAGES_MAGIC = 0x00000803;

export interface IdxImages {
  count: number;
  rows: number;
  cols: number;
  /** count * rows * cols bytes, row-major. */
  pixels: Uint8Array;
}

export interface IdxLabels {
  count: number;
  labels: Uint8Array;
}

/** Reads a file, gunzipping it when it starts with the gzip magic bytes. */
export function readMaybeGzip(file: string): Uint8Array {
  if (!existsSync(file)) throw errors.dataMissing(file, 'IDX file');
  const raw = readFileSync(file);
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      return gunzipSync(raw);
    } catch (e) {
      throw errors.dataInvalid(file, 'a valid gzip stream', `a damaged one (${(e as Error).message})`);
    }
  }
  return raw;
}

function header(bytes: Uint8Array, file: string, words: number): DataView {
  if (bytes.length < 4 * words) {
    throw errors.dataInvalid(file, `an IDX header of ${4 * words} bytes`, `${bytes.length} bytes in all`);
  }
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

const hex = (n: number) => '0x' + n.toString(16).padStart(8, '0');

export function parseIdxImages(bytes: Uint8Array, file = '<buffer>'): IdxImages {
  const view = header(bytes, file, 4);
  const magic = view.getUint32(0);
  if (magic !== IDX_IMAGES_MAGIC) {
    throw errors.dataInvalid(file, `image magic ${hex(IDX_IMAGES_MAGIC)}`, `magic ${hex(magic)}`);
  }
  const count = view.getUint32(4);
  const rows = view.getUint32(8);
  const cols = view.getUint32(12);
  const expected = 16 + count * rows * cols;
  if (bytes.length !== expected) {
    throw errors.dataInvalid(
      file,
      `${expected} bytes (16-byte header + ${count} images of ${rows}x${cols})`,
      `${bytes.length} bytes${bytes.length < expected ? ' (truncated)' : ' (trailing data)'}`,
    );
  }
  return { count, rows, cols, pixels: bytes.subarray(16) };
}

export function parseIdxLabels(bytes: Uint8Array, file = '<buffer>'): IdxLabels {
  const view = header(bytes, file, 2);
  const magic = view.getUint32(0);
  if (magic !== IDX_LABELS_MAGIC) {
    throw errors.dataInvalid(file, `label magic ${hex(IDX_LABELS_MAGIC)}`, `magic ${hex(magic)}`);
  }
  const count = view.getUint32(4);
  const expected = 8 + count;
  if (bytes.length !== expected) {
    throw errors.dataInvalid(
      file,
      `${expected} bytes (8-byte header + ${count} labels)`,
      `${bytes.length} bytes${bytes.length < expected ? ' (truncated)' : ' (trailing data)'}`,
    );
  }
  const labels = bytes.subarray(8);
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] > 9) throw errors.dataInvalid(file, 'labels 0-9', `label ${labels[i]} at index ${i}`);
  }
  return { count, labels };
}

export const readIdxImages = (file: string) => parseIdxImages(readMaybeGzip(file), file);
export const readIdxLabels = (file: string) => parseIdxLabels(readMaybeGzip(file), file);

/** Writes an IDX file's bytes (for tests and tools). */
export function encodeIdx(kind: 'images' | 'labels', data: Uint8Array, dims: number[]): Uint8Array {
  const head = new DataView(new ArrayBuffer(4 + 4 * dims.length));
  head.setUint32(0, kind === 'images' ? IDX_IMAGES_MAGIC : IDX_LABELS_MAGIC);
  dims.forEach((d, i) => head.setUint32(4 + 4 * i, d));
  const out = new Uint8Array(head.byteLength + data.length);
  out.set(new Uint8Array(head.buffer), 0);
  out.set(data, head.byteLength);
  return out;
}
