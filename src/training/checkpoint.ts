/**
 * Checkpoints of trained models, two files in one directory:
 *   <name>.weights.bin  every weight's Float32Array, float32 little-endian, concatenated
 *                       in sorted name order (the order of `architecture`'s keys);
 *   <name>.json         the manifest: format tag, spec, architecture (name -> shape),
 *                       training config, seed, backend, versions, data fingerprint,
 *                       the config hash of the run it belongs to, the weights
 *                       file's name, size and SHA-256, history, time.
 * Both are written atomically (temp file in the same directory, fsync, rename) and the
 * manifest last, so a manifest's presence means its weights are complete. Loading
 * checks everything the manifest promises and refuses a damaged or mismatched pair
 * with a GlanceError('CHECKPOINT_INVALID') naming the file. Given what the caller
 * expects (model, seed, run's config hash, data), it also refuses a sound
 * checkpoint of another model, seed, run or data: one copied or swapped in is
 * never evaluated as this run's model.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { writeAtomic } from '../data/durable.js';
import { basename, join } from 'node:path';
import { GlanceError } from '../errors.js';
import { describeSpec, normalizeSpec, weightShapes, type NetSpec } from '../experiments/models.js';
import { MODELS, type BackendInfo, type EpochReport, type ModelName, type TrainConfig } from '../experiments/types.js';
import { size, type WeightSet } from '../paper/weights.js';

export const CHECKPOINT_FORMAT = 'glance-bench/checkpoint@1';

export interface CheckpointManifest {
  format: typeof CHECKPOINT_FORMAT;
  model: ModelName;
  spec: NetSpec;
  /** Weight name -> shape, keys in the order of the weights file. */
  architecture: Record<string, number[]>;
  config: TrainConfig;
  seed: number;
  backend: BackendInfo;
  /** Library versions (tfjs, the harness, ...), as the caller passes them. */
  versions: Record<string, string>;
  dataFingerprint: string;
  /**
   * configHash of the run whose checkpoints/ holds it (a model taken from another
   * run with --reuse-checkpoints is re-labelled, its origin in reusedFrom); absent
   * in checkpoints of an older glance.
   */
  configHash?: string;
  /** The manifest this one was copied from (--reuse-checkpoints). */
  reusedFrom?: string;
  /** File name (no directory) of the weights, next to the manifest. */
  weightsFile: string;
  weightsBytes: number;
  /** SHA-256 (hex) of the weights file. */
  sha256: string;
  history: EpochReport[];
  createdAt: string;
}

/** What the caller knows about a trained model besides its weights. */
export interface CheckpointMeta {
  spec: NetSpec;
  config: TrainConfig;
  seed: number;
  backend: BackendInfo;
  versions: Record<string, string>;
  dataFingerprint: string;
  /** configHash of the run the model is trained for. */
  configHash?: string;
  history: EpochReport[];
  /** ISO time; now when absent. */
  createdAt?: string;
}

export interface CheckpointExpect {
  spec?: NetSpec;
  dataFingerprint?: string;
  seed?: number;
  /** The run's configHash; a manifest without one (an older glance) passes. */
  configHash?: string;
}

export interface Checkpoint {
  manifest: CheckpointManifest;
  weights: WeightSet;
}

/** The two files of checkpoint `name` (a plain file name, no directory) in `dir`. */
export function checkpointFiles(dir: string, name: string): { manifest: string; weights: string } {
  if (name === '' || basename(name) !== name) throw new TypeError(`checkpoint name must be a plain file name, got ${JSON.stringify(name)}`);
  return { manifest: join(dir, `${name}.json`), weights: join(dir, `${name}.weights.bin`) };
}

/** Whether a complete checkpoint is there (its manifest exists); loadCheckpoint validates it. */
export const checkpointExists = (dir: string, name: string) => existsSync(checkpointFiles(dir, name).manifest);

/** Saves weights + manifest atomically, replacing a checkpoint of the same name. Returns the manifest. */
export function saveCheckpoint(dir: string, name: string, weights: WeightSet, meta: CheckpointMeta): CheckpointManifest {
  const files = checkpointFiles(dir, name);
  const architecture = sortedArchitecture(weightShapes(meta.spec));
  const names = Object.keys(architecture);
  const given = Object.keys(weights).sort();
  if (given.join() !== names.join()) {
    throw new TypeError(`saveCheckpoint(${name}): weights are ${given.join(', ')}; a ${meta.spec.model} has ${names.join(', ')}`);
  }
  for (const n of names) {
    const w = weights[n];
    if (w.shape.join() !== architecture[n].join() || w.data.length !== size(architecture[n])) {
      throw new TypeError(
        `saveCheckpoint(${name}): weight ${n} has shape [${w.shape}] and ${w.data.length} values; expected [${architecture[n]}]`,
      );
    }
  }
  const bytes = encodeWeights(names.map((n) => weights[n].data));
  const manifest: CheckpointManifest = {
    format: CHECKPOINT_FORMAT,
    model: meta.spec.model,
    spec: { ...meta.spec },
    architecture,
    config: meta.config,
    seed: meta.seed,
    backend: meta.backend,
    versions: meta.versions,
    dataFingerprint: meta.dataFingerprint,
    ...(meta.configHash !== undefined ? { configHash: meta.configHash } : {}),
    weightsFile: basename(files.weights),
    weightsBytes: bytes.length,
    sha256: sha256(bytes),
    history: meta.history,
    createdAt: meta.createdAt ?? new Date().toISOString(),
  };
  // The old manifest stays until the new one replaces it: an engine may run a job
  // twice (at-least-once), and a reader between the two renames then sees the old
  // manifest with weights of the same seed and config, bit-identical when training
  // is deterministic; any other pair fails its SHA-256 check instead of vanishing.
  writeAtomic(files.weights, bytes);
  writeAtomic(files.manifest, JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}

/** Loads and validates a checkpoint; with `expect`, also that it is the model and data the caller wants. */
export function loadCheckpoint(dir: string, name: string, expect: CheckpointExpect = {}): Checkpoint {
  const files = checkpointFiles(dir, name);
  if (!existsSync(files.manifest)) throw invalid(files, files.manifest, 'a checkpoint manifest', 'no such file');
  const manifest = readManifest(files);

  const archFromSpec = sortedArchitecture(weightShapes(normalizeSpec(manifest.spec)));
  const archDiff = architectureDiff(archFromSpec, manifest.architecture);
  if (archDiff) throw invalid(files, files.manifest, `the architecture of a ${describeSpec(normalizeSpec(manifest.spec))}`, archDiff);
  if (expect.spec) {
    const want = normalizeSpec(expect.spec);
    const found = normalizeSpec(manifest.spec);
    if (JSON.stringify(want) !== JSON.stringify(found)) {
      throw invalid(files, files.manifest, `a checkpoint of ${describeSpec(want)}`, `one of ${describeSpec(found)}`);
    }
  }
  if (expect.dataFingerprint !== undefined && expect.dataFingerprint !== manifest.dataFingerprint) {
    throw mismatch(files, `a model trained on data ${expect.dataFingerprint}`, `data ${manifest.dataFingerprint}`);
  }
  if (expect.seed !== undefined && expect.seed !== manifest.seed) {
    throw mismatch(files, `the model of seed ${expect.seed}`, `seed ${manifest.seed}`);
  }
  if (expect.configHash !== undefined && manifest.configHash !== undefined && expect.configHash !== manifest.configHash) {
    throw mismatch(files, `a model of the run with config hash ${expect.configHash}`, `config hash ${manifest.configHash} (another run's model)`);
  }

  const weightsPath = join(dir, manifest.weightsFile);
  if (!existsSync(weightsPath)) throw invalid(files, weightsPath, 'the weights file named by the manifest', 'no such file');
  const names = Object.keys(archFromSpec);
  const expectedBytes = 4 * names.reduce((sum, n) => sum + size(archFromSpec[n]), 0);
  if (manifest.weightsBytes !== expectedBytes) {
    throw invalid(files, files.manifest, `weightsBytes ${expectedBytes} (the sum of the shapes x 4)`, `${manifest.weightsBytes}`);
  }
  const onDisk = statSync(weightsPath).size;
  if (onDisk !== expectedBytes) throw invalid(files, weightsPath, `${expectedBytes} bytes`, `${onDisk} bytes`);
  const bytes = readFileSync(weightsPath);
  if (bytes.length !== expectedBytes) throw invalid(files, weightsPath, `${expectedBytes} bytes`, `${bytes.length} bytes`);
  const digest = sha256(bytes);
  if (digest !== manifest.sha256) throw invalid(files, weightsPath, `sha256 ${manifest.sha256}`, `sha256 ${digest}`);

  const weights: WeightSet = {};
  let offset = 0;
  for (const n of names) {
    const shape = [...archFromSpec[n]];
    const count = size(shape);
    weights[n] = { shape, data: decodeFloats(bytes, offset, count) };
    offset += 4 * count;
  }
  return { manifest, weights };
}

function readManifest(files: { manifest: string; weights: string }): CheckpointManifest {
  let m: Record<string, unknown>;
  try {
    m = JSON.parse(readFileSync(files.manifest, 'utf8'));
  } catch (e) {
    throw invalid(files, files.manifest, 'a JSON manifest', `unparseable text (${(e as Error).message})`);
  }
  if (typeof m !== 'object' || m === null || Array.isArray(m)) throw invalid(files, files.manifest, 'a JSON object', typeof m);
  if (m.format !== CHECKPOINT_FORMAT) throw invalid(files, files.manifest, `format "${CHECKPOINT_FORMAT}"`, JSON.stringify(m.format));
  const spec = m.spec as { model: ModelName } | undefined;
  if (typeof spec !== 'object' || spec === null || !(MODELS as readonly string[]).includes(spec.model)) {
    throw invalid(files, files.manifest, `a spec naming one of ${MODELS.join(', ')}`, JSON.stringify(spec));
  }
  if (m.model !== spec.model) throw invalid(files, files.manifest, `model ${spec.model} (as its spec)`, JSON.stringify(m.model));
  const wf = m.weightsFile;
  if (typeof wf !== 'string' || wf === '' || basename(wf) !== wf) {
    throw invalid(files, files.manifest, 'weightsFile, a file name in the same directory', JSON.stringify(wf));
  }
  if (typeof m.weightsBytes !== 'number' || typeof m.sha256 !== 'string') {
    throw invalid(files, files.manifest, 'weightsBytes (number) and sha256 (string)', `${JSON.stringify(m.weightsBytes)}, ${JSON.stringify(m.sha256)}`);
  }
  if (typeof m.architecture !== 'object' || m.architecture === null) {
    throw invalid(files, files.manifest, 'an architecture (name -> shape)', JSON.stringify(m.architecture));
  }
  return { ...m, spec: normalizeSpec(spec as Parameters<typeof normalizeSpec>[0]) } as unknown as CheckpointManifest;
}

function invalid(files: { manifest: string; weights: string }, file: string, expected: string, found: string): GlanceError {
  return new GlanceError(
    'CHECKPOINT_INVALID',
    `checkpoint ${file}: expected ${expected}, found ${found}`,
    `delete ${files.manifest} and ${files.weights}; the run will train this model again`,
  );
}

/** A sound checkpoint that is not the one wanted: where it is, what differs, how to recover, in the message (a job's error keeps only that). */
function mismatch(files: { manifest: string; weights: string }, expected: string, found: string): GlanceError {
  return new GlanceError(
    'CHECKPOINT_INVALID',
    `checkpoint ${files.manifest} is not this run's model: expected ${expected}, found ${found}; ` +
      `restore the right one, or delete ${basename(files.manifest)} and ${basename(files.weights)} so the run trains it again`,
    `delete ${files.manifest} and ${files.weights} (or put this run's checkpoint back in their place); the run will train this model again`,
  );
}

function sortedArchitecture(shapes: Record<string, number[]>): Record<string, number[]> {
  return Object.fromEntries(Object.keys(shapes).sort().map((n) => [n, [...shapes[n]]]));
}

/** A description of how `found` differs from `expected`, or '' when names and shapes agree. */
function architectureDiff(expected: Record<string, number[]>, found: Record<string, unknown>): string {
  const diffs: string[] = [];
  for (const [n, shape] of Object.entries(expected)) {
    const f = found[n];
    if (f === undefined) diffs.push(`${n} missing`);
    else if (!Array.isArray(f) || f.join() !== shape.join()) diffs.push(`${n} [${shape}] but found ${JSON.stringify(f)}`);
  }
  for (const n of Object.keys(found)) if (!(n in expected)) diffs.push(`unexpected ${n}`);
  return diffs.length ? `weights that differ: ${diffs.join('; ')}` : '';
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function encodeWeights(arrays: Float32Array[]): Buffer {
  const total = arrays.reduce((s, a) => s + a.length, 0);
  const out = Buffer.alloc(4 * total);
  let offset = 0;
  for (const a of arrays) {
    if (LITTLE_ENDIAN) {
      out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), offset);
    } else {
      for (let i = 0; i < a.length; i++) out.writeFloatLE(a[i], offset + 4 * i);
    }
    offset += a.byteLength;
  }
  return out;
}

function decodeFloats(bytes: Buffer, offset: number, count: number): Float32Array {
  const out = new Float32Array(count);
  if (LITTLE_ENDIAN) new Uint8Array(out.buffer).set(bytes.subarray(offset, offset + 4 * count));
  else for (let i = 0; i < count; i++) out[i] = bytes.readFloatLE(offset + 4 * i);
  return out;
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
