import { mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveDataset } from '../src/data/registry.js';
import { loadShared, splitView, type SharedDataset } from '../src/data/shared.js';
import { GlanceError } from '../src/errors.js';
import { type NetSpec, weightShapes } from '../src/experiments/models.js';
import { type BackendInfo, DEFAULT_TRAIN } from '../src/experiments/types.js';
import { initWeights, Net } from '../src/paper/net.js';
import { fixedDraw, type GlanceDraw } from '../src/paper/transforms.js';
import type { WeightSet } from '../src/paper/weights.js';
import {
  CHECKPOINT_FORMAT,
  type CheckpointMeta,
  checkpointExists,
  checkpointFiles,
  loadCheckpoint,
  saveCheckpoint,
} from '../src/training/checkpoint.js';
import { type TrainResult, trainNet } from '../src/training/train.js';

const NORMAL: NetSpec = { model: 'NormalNet' };
const GLANCE: NetSpec = { model: 'GlanceAgain', baseLayer: 'frozen', resampling: 'bilinear' };

let dir: string;
let ds: SharedDataset;
let normal: TrainResult;
let glance: TrainResult;

function meta(spec: NetSpec, r: TrainResult, limit: number): CheckpointMeta {
  const backend: BackendInfo = { name: 'cpu', tfjs: tf.version.tfjs };
  return {
    spec,
    config: { ...DEFAULT_TRAIN, epochs: 1, limit },
    seed: 7,
    backend,
    versions: { tfjs: tf.version.tfjs },
    dataFingerprint: ds.fingerprint,
    history: r.history,
  };
}

/** Log-probabilities of the first n test images. */
function predict(spec: NetSpec, weights: WeightSet, n: number, draw?: GlanceDraw): Float32Array {
  const test = splitView(ds, 'test');
  const net = new Net(spec, weights);
  try {
    return tf.tidy(() => net.forward(tf.tensor2d(test.range(0, n), [n, test.size]), draw).dataSync() as Float32Array).slice();
  } finally {
    net.dispose();
  }
}

/** The GlanceError a call throws. */
function refusal(f: () => unknown): GlanceError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(GlanceError);
    expect((e as GlanceError).code).toBe('CHECKPOINT_INVALID');
    expect((e as GlanceError).suggestion).toMatch(/^delete .*; the run will train this model again$/);
    return e as GlanceError;
  }
  throw new Error('expected the checkpoint to be refused');
}

/** A fresh copy of checkpoint `from` under `name`, manifest pointing at its own weights file. */
function copyCheckpoint(from: string, name: string): { manifest: string; weights: string } {
  const src = checkpointFiles(dir, from);
  const dst = checkpointFiles(dir, name);
  writeFileSync(dst.weights, readFileSync(src.weights));
  const m = JSON.parse(readFileSync(src.manifest, 'utf8'));
  m.weightsFile = `${name}.weights.bin`;
  writeFileSync(dst.manifest, JSON.stringify(m));
  return dst;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'glance-checkpoint-'));
  ds = loadShared(resolveDataset({ dataset: 'mnist' }));
  const train = splitView(ds, 'train');
  await tf.setBackend('cpu');
  const cfg = { ...DEFAULT_TRAIN, epochs: 1 };
  normal = trainNet(NORMAL, initWeights(NORMAL, 7), train, { ...cfg, limit: 1000 }, 7);
  glance = trainNet(GLANCE, initWeights(GLANCE, 7, normal.weights), train, { ...cfg, limit: 64 }, 7);
  saveCheckpoint(dir, 'normal', normal.weights, meta(NORMAL, normal, 1000));
  saveCheckpoint(dir, 'glance', glance.weights, meta(GLANCE, glance, 64));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('checkpoint round trip', () => {
  it('gives the same log-probabilities bit for bit (NormalNet)', () => {
    const { manifest, weights } = loadCheckpoint(dir, 'normal', { spec: NORMAL, dataFingerprint: ds.fingerprint });
    expect(manifest.model).toBe('NormalNet');
    expect(Object.keys(weights).sort()).toEqual(Object.keys(normal.weights).sort());
    for (const [n, w] of Object.entries(normal.weights)) {
      expect(weights[n].shape).toEqual(w.shape);
      expect(weights[n].data).toEqual(w.data);
    }
    const before = predict(NORMAL, normal.weights, 64);
    const after = predict(NORMAL, weights, 64);
    expect(Array.from(after)).toEqual(Array.from(before));
  });

  it('gives the same log-probabilities bit for bit (GlanceAgain, fixed draw)', () => {
    const { weights } = loadCheckpoint(dir, 'glance', { spec: GLANCE, dataFingerprint: ds.fingerprint });
    const draw = fixedDraw(16, [12, -25, 7, 30], 1.4);
    const before = predict(GLANCE, glance.weights, 16, draw);
    const after = predict(GLANCE, weights, 16, draw);
    expect(Array.from(after)).toEqual(Array.from(before));
    // The frozen base layer came through as the NormalNet's.
    expect(weights['base.kernel'].data).toEqual(normal.weights['base.kernel'].data);
  });

  it('records the manifest: format, architecture, sizes, history, provenance', () => {
    const files = checkpointFiles(dir, 'glance');
    const m = JSON.parse(readFileSync(files.manifest, 'utf8'));
    expect(m.format).toBe(CHECKPOINT_FORMAT);
    expect(m.model).toBe('GlanceAgain');
    expect(m.spec).toEqual(GLANCE);
    expect(m.architecture).toEqual(weightShapes(GLANCE));
    expect(Object.keys(m.architecture)).toEqual(Object.keys(weightShapes(GLANCE)).sort());
    expect(m.weightsFile).toBe('glance.weights.bin');
    const bytes = readFileSync(files.weights);
    expect(m.weightsBytes).toBe(bytes.length);
    expect(m.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(m.seed).toBe(7);
    expect(m.config.limit).toBe(64);
    expect(m.backend.name).toBe('cpu');
    expect(m.versions.tfjs).toBe(tf.version.tfjs);
    expect(m.dataFingerprint).toBe(ds.fingerprint);
    expect(m.history).toEqual(glance.history);
    expect(Number.isNaN(Date.parse(m.createdAt))).toBe(false);
    // Little-endian float32 in sorted name order: the file starts with the first value of the first name.
    const first = Object.keys(m.architecture)[0];
    expect(bytes.readFloatLE(0)).toBe(glance.weights[first].data[0]);
    // No temp files are left behind.
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('overwrites a checkpoint of the same name', () => {
    saveCheckpoint(dir, 'again', glance.weights, meta(GLANCE, glance, 64));
    saveCheckpoint(dir, 'again', normal.weights, meta(NORMAL, normal, 1000));
    expect(checkpointExists(dir, 'again')).toBe(true);
    expect(loadCheckpoint(dir, 'again').manifest.model).toBe('NormalNet');
    expect(checkpointExists(dir, 'never-written')).toBe(false);
  });

  it('refuses to save weights that do not fit the spec', () => {
    expect(() => saveCheckpoint(dir, 'wrong', normal.weights, meta(GLANCE, normal, 1))).toThrow(/a GlanceAgain has/);
    expect(() => checkpointFiles(dir, '../escape')).toThrow(TypeError);
  });
});

describe('checkpoints written by earlier versions still load', () => {
  it.each([
    ['no GlanceAgain options (the paper defaults: frozen, bilinear)', { model: 'GlanceAgain' }],
    ['a base layer but no resampling', { model: 'GlanceAgain', baseLayer: 'frozen' }],
  ])('a GlanceAgain manifest with %s, and a config from packed training', (_, spec) => {
    const f = copyCheckpoint('glance', `old-${Object.keys(spec).length}`);
    const m = JSON.parse(readFileSync(f.manifest, 'utf8'));
    m.spec = spec;
    m.config = { ...m.config, packedWith: [7, 8, 9] };
    writeFileSync(f.manifest, JSON.stringify(m, null, 2));
    const name = `old-${Object.keys(spec).length}`;
    const { manifest, weights } = loadCheckpoint(dir, name, { spec: GLANCE, dataFingerprint: ds.fingerprint });
    expect(manifest.spec).toEqual(GLANCE);
    const draw = fixedDraw(8, [12, -25, 7, 30], 1.4);
    expect(Array.from(predict(manifest.spec, weights, 8, draw))).toEqual(Array.from(predict(GLANCE, glance.weights, 8, draw)));
    // The defaults are what the old code trained: not another base layer or resampling.
    const e = refusal(() => loadCheckpoint(dir, name, { spec: { model: 'GlanceAgain', baseLayer: 'frozen', resampling: 'nearest' } }));
    expect(e.message).toContain('found one of GlanceAgain (base layer frozen, bilinear)');
  });

  it('a NormalNet manifest whose spec carries GlanceAgain-only fields', () => {
    const f = copyCheckpoint('normal', 'old-normal');
    const m = JSON.parse(readFileSync(f.manifest, 'utf8'));
    m.spec = { model: 'NormalNet', baseLayer: 'frozen', resampling: 'bilinear' };
    writeFileSync(f.manifest, JSON.stringify(m));
    expect(loadCheckpoint(dir, 'old-normal', { spec: NORMAL }).manifest.spec).toEqual(NORMAL);
  });
});

describe('a damaged or mismatched checkpoint is refused, naming the file', () => {
  it('a truncated weights file', () => {
    const f = copyCheckpoint('normal', 'truncated');
    const full = readFileSync(f.weights).length;
    truncateSync(f.weights, full - 4);
    const e = refusal(() => loadCheckpoint(dir, 'truncated'));
    expect(e.message).toContain(f.weights);
    expect(e.message).toContain(`expected ${full} bytes, found ${full - 4} bytes`);
  });

  it('a flipped byte (SHA-256 mismatch)', () => {
    const f = copyCheckpoint('normal', 'flipped');
    const bytes = readFileSync(f.weights);
    bytes[1000] ^= 0x40;
    writeFileSync(f.weights, bytes);
    const e = refusal(() => loadCheckpoint(dir, 'flipped'));
    expect(e.message).toContain(f.weights);
    expect(e.message).toMatch(/expected sha256 [0-9a-f]{64}, found sha256 [0-9a-f]{64}/);
  });

  it('a checkpoint of another model than the one asked for', () => {
    const e = refusal(() => loadCheckpoint(dir, 'normal', { spec: GLANCE }));
    expect(e.message).toContain(checkpointFiles(dir, 'normal').manifest);
    expect(e.message).toContain('expected a checkpoint of GlanceAgain (base layer frozen, bilinear), found one of NormalNet');
    const f = refusal(() => loadCheckpoint(dir, 'glance', { spec: { model: 'GlanceAgain', baseLayer: 'fine-tune', resampling: 'bilinear' } }));
    expect(f.message).toContain('base layer fine-tune');
    const g = refusal(() => loadCheckpoint(dir, 'glance', { spec: { model: 'GlanceAgain', baseLayer: 'frozen', resampling: 'nearest' } }));
    expect(g.message).toContain('expected a checkpoint of GlanceAgain (base layer frozen, nearest), found one of GlanceAgain (base layer frozen, bilinear)');
  });

  it('a manifest whose architecture does not match its model (shape mismatch)', () => {
    const f = copyCheckpoint('normal', 'reshaped');
    const m = JSON.parse(readFileSync(f.manifest, 'utf8'));
    m.architecture['base.kernel'] = [784, 64];
    writeFileSync(f.manifest, JSON.stringify(m));
    const e = refusal(() => loadCheckpoint(dir, 'reshaped'));
    expect(e.message).toContain(f.manifest);
    expect(e.message).toContain('base.kernel [784,100] but found [784,64]');
  });

  it('a manifest of another architecture next to the weights (byte count mismatch)', () => {
    // GlanceAgain's manifest, NormalNet's weights under its name.
    const f = copyCheckpoint('glance', 'swapped');
    writeFileSync(f.weights, readFileSync(checkpointFiles(dir, 'normal').weights));
    const e = refusal(() => loadCheckpoint(dir, 'swapped'));
    expect(e.message).toContain(f.weights);
    expect(e.message).toMatch(/expected \d+ bytes, found \d+ bytes/);
  });

  it('data of another fingerprint', () => {
    const e = refusal(() => loadCheckpoint(dir, 'normal', { dataFingerprint: '0123456789abcdef' }));
    expect(e.message).toContain(`found data ${ds.fingerprint}`);
  });

  it('a missing weights file', () => {
    const f = copyCheckpoint('normal', 'noweights');
    unlinkSync(f.weights);
    const e = refusal(() => loadCheckpoint(dir, 'noweights'));
    expect(e.message).toContain(f.weights);
    expect(e.message).toContain('no such file');
  });

  it('a missing manifest', () => {
    const e = refusal(() => loadCheckpoint(dir, 'absent'));
    expect(e.message).toContain(checkpointFiles(dir, 'absent').manifest);
    expect(e.message).toContain('no such file');
  });

  it('a manifest that is not JSON, or of another format', () => {
    const f = copyCheckpoint('normal', 'garbled');
    writeFileSync(f.manifest, '{"format": "glance-bench/checkp');
    expect(refusal(() => loadCheckpoint(dir, 'garbled')).message).toContain(`${f.manifest}: expected a JSON manifest`);
    const g = copyCheckpoint('normal', 'oldformat');
    const m = JSON.parse(readFileSync(g.manifest, 'utf8'));
    m.format = 'glance-bench/checkpoint@0';
    writeFileSync(g.manifest, JSON.stringify(m));
    expect(refusal(() => loadCheckpoint(dir, 'oldformat')).message).toContain(
      `expected format "${CHECKPOINT_FORMAT}", found "glance-bench/checkpoint@0"`,
    );
  });
});
