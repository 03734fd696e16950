/**
 * The digit gallery: FGSM on the first test images of small models trained for
 * one epoch on a slice of real MNIST (adversarial pixels within eps of the clean
 * ones, in each unit; the attack hurts), and its SVG: the uncompressed PNG of
 * each digit decodes to the pixels it was given, and the layout is golden.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MNIST_STD } from '../src/attacks/eps.js';
import { galleryEps } from '../src/coordinator/gallery.js';
import { resolveDataset } from '../src/data/registry.js';
import { loadShared, splitView, type SharedDataset } from '../src/data/shared.js';
import type { NetSpec } from '../src/experiments/models.js';
import { DEFAULT_TRAIN } from '../src/experiments/types.js';
import { initWeights } from '../src/paper/net.js';
import { crc32, greyPng, maxPerturbation, renderGallerySvg } from '../src/report/gallery-svg.js';
import { saveCheckpoint } from '../src/training/checkpoint.js';
import { trainNet } from '../src/training/train.js';
import { craftGallery } from '../src/workers/gallery.js';
import type { GalleryPanel, GalleryTask } from '../src/workers/protocol.js';

const NORMAL: NetSpec = { model: 'NormalNet' };
const GLANCE: NetSpec = { model: 'GlanceAgain', baseLayer: 'frozen', resampling: 'bilinear' };
const N = 8;

let dir: string;
let ds: SharedDataset;
let task: GalleryTask;
let panels: GalleryPanel[];
let tensorsLeft: number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'glance-gallery-'));
  ds = loadShared(resolveDataset({ dataset: 'mnist' }));
  await tf.setBackend('cpu');
  const cfg = { ...DEFAULT_TRAIN, epochs: 1 };
  const train = splitView(ds, 'train');
  const normal = trainNet(NORMAL, initWeights(NORMAL, 3), train, { ...cfg, limit: 1000 }, 3);
  const glance = trainNet(GLANCE, initWeights(GLANCE, 3, normal.weights), train, { ...cfg, limit: 128 }, 3);
  const meta = (spec: NetSpec, history: typeof normal.history) => ({
    spec, config: cfg, seed: 3, backend: { name: 'cpu' as const, tfjs: tf.version.tfjs }, versions: {}, dataFingerprint: ds.fingerprint, history,
  });
  saveCheckpoint(dir, 'NormalNet-seed3', normal.weights, meta(NORMAL, normal.history));
  saveCheckpoint(dir, 'GlanceAgain-seed3', glance.weights, meta(GLANCE, glance.history));
  const test = splitView(ds, 'test');
  const idx = Array.from({ length: N }, (_, i) => i);
  task = {
    backend: 'cpu',
    checkpointDir: dir,
    models: [
      { label: 'NormalNet', checkpoint: 'NormalNet-seed3', units: ['pixel', 'normalized'] },
      { label: 'GlanceAgain', checkpoint: 'GlanceAgain-seed3', units: ['pixel'] },
    ],
    eps: [0.1, 0.3],
    seed: 3,
    images: test.images(idx),
    labels: test.labelsAt(idx),
  };
  const before = tf.memory().numTensors;
  panels = craftGallery(task);
  tensorsLeft = tf.memory().numTensors - before;
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('craftGallery on small trained models', () => {
  it('makes a row per model, unit and eps, and leaves no tensor behind', () => {
    expect(panels.map((p) => `${p.label} ${p.units} ${p.eps}`)).toEqual([
      'NormalNet pixel 0.1', 'NormalNet pixel 0.3', 'NormalNet normalized 0.1', 'NormalNet normalized 0.3', 'GlanceAgain pixel 0.1', 'GlanceAgain pixel 0.3',
    ]);
    expect(tensorsLeft).toBe(0);
    for (const p of panels) {
      expect(p.adversarial.length).toBe(N * 784);
      expect(p.predictions.every((c) => Number.isInteger(c) && c >= 0 && c < 10)).toBe(true);
      expect(p.cleanPredictions.length).toBe(N);
    }
  });

  it('keeps every adversarial pixel within eps of the clean one (pixel units in [0, 1]; normalized eps x 0.3081)', () => {
    for (const p of panels) {
      const bound = p.units === 'pixel' ? p.eps : p.eps * MNIST_STD;
      const m = maxPerturbation(task.images, p.adversarial);
      expect(m).toBeLessThanOrEqual(bound + 1e-6);
      // FGSM moves a pixel by the whole step unless clipping stops it: the bound is reached.
      expect(m).toBeGreaterThan(bound - 1e-6);
      if (p.units === 'pixel') expect(Math.min(...p.adversarial) >= 0 && Math.max(...p.adversarial) <= 1).toBe(true);
    }
  });

  it('white-box FGSM at eps 0.3 hurts NormalNet on these images', () => {
    const right = (pred: number[]) => pred.filter((c, k) => c === task.labels[k]).length;
    const clean = right(panels[0].cleanPredictions);
    expect(clean).toBeGreaterThanOrEqual(6);
    expect(right(panels[1].predictions)).toBeLessThan(clean);
  });

  it('draws the gallery: a digit per image and row, wrong predictions marked', () => {
    const svg = renderGallerySvg({ clean: task.images, labels: task.labels, rows: panels, caption: 'test' });
    expect((svg.match(/<image /g) ?? []).length).toBe(N * (panels.length + 1));
    const wrong = panels.reduce((s, p) => s + p.predictions.filter((c, k) => c !== task.labels[k]).length, 0);
    expect((svg.match(/ ✗<\/text>/g) ?? []).length).toBe(wrong);
    expect(svg).toContain('>NormalNet · normalized eps 0.3</text>');
  });
});

/** The raw rows of a PNG written by greyPng: checks signature, chunk CRCs and the stored block, returns IDAT's data. */
function decodeStoredPng(b64: string): { width: number; height: number; raw: Uint8Array } {
  const png = Uint8Array.from(Buffer.from(b64, 'base64'));
  expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const dv = new DataView(png.buffer);
  const chunks: Record<string, Uint8Array> = {};
  for (let o = 8; o < png.length; ) {
    const len = dv.getUint32(o);
    const type = String.fromCharCode(...png.subarray(o + 4, o + 8));
    expect(dv.getUint32(o + 8 + len), `CRC of ${type}`).toBe(crc32(png.subarray(o + 4, o + 8 + len)));
    chunks[type] = png.subarray(o + 8, o + 8 + len);
    o += 12 + len;
  }
  const idat = chunks.IDAT;
  expect([idat[0], idat[1], idat[2]]).toEqual([0x78, 0x01, 0x01]);
  const len = idat[3] | (idat[4] << 8);
  expect((idat[5] | (idat[6] << 8)) ^ 0xffff).toBe(len);
  const ihdr = new DataView(chunks.IHDR.buffer, chunks.IHDR.byteOffset);
  return { width: ihdr.getUint32(0), height: ihdr.getUint32(4), raw: idat.subarray(7, 7 + len) };
}

describe('the gallery SVG', () => {
  it('crc32 matches the standard check value', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });

  it('writes each digit as a PNG whose rows are the pixels, clamped to [0, 1]', () => {
    const pixels = Float32Array.from({ length: 784 }, (_, i) => (i % 29) / 20 - 0.2);
    const { width, height, raw } = decodeStoredPng(greyPng(pixels));
    expect([width, height, raw.length]).toEqual([28, 28, 28 * 29]);
    for (let r = 0; r < 28; r++) {
      expect(raw[r * 29]).toBe(0);
      for (let c = 0; c < 28; c++) expect(raw[r * 29 + 1 + c]).toBe(Math.round(255 * Math.min(1, Math.max(0, pixels[r * 28 + c]))));
    }
  });

  it('matches the golden SVG for a fixed input', () => {
    const clean = Float32Array.from({ length: 2 * 784 }, (_, i) => (i % 784 < 392 ? 1 : 0));
    const adversarial = clean.map((v) => (v === 1 ? 0.7 : 0.3));
    const svg = renderGallerySvg({
      clean, labels: [1, 7], caption: 'run test, seed 1',
      rows: [{ label: 'AdvNet@pixel', eps: 0.3, units: 'pixel', adversarial, cleanPredictions: [1, 7], predictions: [1, 3] }],
    });
    expect(svg).toBe(readFileSync(new URL('./fixtures/svg/gallery.svg', import.meta.url), 'utf8'));
  });

  it('refuses images and labels that do not match', () => {
    expect(() => renderGallerySvg({ clean: new Float32Array(784), labels: [1, 2], rows: [] })).toThrow(/784 clean pixels for 2 labels/);
  });
});

describe('galleryEps', () => {
  it('keeps a few eps: all of up to three, else the smallest, the paper\'s 0.3 (or the middle) and the largest', () => {
    expect(galleryEps([0.3])).toEqual([0.3]);
    expect(galleryEps([0, 0.1, 0.3])).toEqual([0.1, 0.3]);
    expect(galleryEps([0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5])).toEqual([0.05, 0.3, 0.5]);
    expect(galleryEps([0.1, 0.2, 0.4, 0.5])).toEqual([0.1, 0.4, 0.5]);
  });
});
