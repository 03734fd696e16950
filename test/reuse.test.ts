/**
 * --reuse-checkpoints without training: checkpoints written by hand (zero
 * weights of the right shapes) are taken when model, seed, training config and
 * data match, a model an older glance trained in a pack (its config names
 * packedWith) included; and GlanceAgain, whose base layer is NormalNet's, is taken
 * only together with that NormalNet from the same directory.
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reuseCheckpoints } from '../src/coordinator/reuse.js';
import { RunStore } from '../src/coordinator/store.js';
import type { ExperimentConfig } from '../src/experiments/config.js';
import { buildJobs, trainId } from '../src/experiments/grid.js';
import { checkpointName, netSpec, weightShapes } from '../src/experiments/models.js';
import { PRESETS } from '../src/experiments/presets.js';
import { modelTrainConfig } from '../src/experiments/readings.js';
import type { ModelName, TrainConfig } from '../src/experiments/types.js';
import { loadCheckpoint, saveCheckpoint } from '../src/training/checkpoint.js';

const config: ExperimentConfig = { ...PRESETS.smoke, seeds: [1], models: ['NormalNet', 'GlanceAgain'], threats: ['white-box'], attacks: ['fgsm'] };
const jobs = buildJobs(config, 10000);

const common = modelTrainConfig(config.train, 'NormalNet');

function save(dir: string, model: ModelName, train: TrainConfig = common, name = checkpointName(model, 1)): void {
  const spec = netSpec(model, config);
  const weights = Object.fromEntries(Object.entries(weightShapes(spec)).map(([n, shape]) => [n, { shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) }]));
  saveCheckpoint(dir, name, weights, { spec, config: train, seed: 1, backend: { name: 'cpu', tfjs: 'test' }, versions: {}, dataFingerprint: 'fp', history: [] });
}

function fresh() {
  const store = new RunStore(mkdtempSync(join(tmpdir(), 'glance-reuse-')));
  return { store, state: store.open(config, false) };
}

describe('reuseCheckpoints', () => {
  it('takes matching models, bases first, and records where they came from', () => {
    const from = mkdtempSync(join(tmpdir(), 'glance-reuse-from-'));
    save(from, 'GlanceAgain');
    save(from, 'NormalNet');
    const { store, state } = fresh();
    // GlanceAgain comes first in this models order: it still waits for its base.
    const reordered = buildJobs({ ...config, models: ['GlanceAgain', 'NormalNet'] }, 10000);
    expect(reuseCheckpoints(reordered, config, 'fp', from, store, state)).toEqual(['train/NormalNet/seed1', 'train/GlanceAgain/seed1']);
    const line = store.read().lines.get('train/GlanceAgain/seed1');
    expect(line).toMatchObject({ status: 'done', train: { reusedFrom: join(from, 'GlanceAgain-seed1.json') } });
    expect(reuseCheckpoints(jobs, config, 'fp', from, store, state)).toEqual([]);
  });

  it('refuses other data and another training config; takes a model an older glance trained in a pack', () => {
    const { store, state } = fresh();
    const other = mkdtempSync(join(tmpdir(), 'glance-reuse-from-'));
    save(other, 'NormalNet', { ...common, epochs: 7 });
    expect(reuseCheckpoints(jobs, config, 'fp', other, store, state)).toEqual([]);
    const good = mkdtempSync(join(tmpdir(), 'glance-reuse-from-'));
    save(good, 'NormalNet');
    expect(reuseCheckpoints(jobs, config, 'other data', good, store, state)).toEqual([]);
    const packed = mkdtempSync(join(tmpdir(), 'glance-reuse-from-'));
    save(packed, 'NormalNet', Object.assign({ advEps: 0.3, advUnits: 'pixel', advMix: 0.5 }, common, { packedWith: [1, 2, 3] }));
    expect(reuseCheckpoints(jobs, config, 'fp', packed, store, state)).toEqual([trainId('NormalNet', 1)]);
  });

  it('does not take GlanceAgain whose NormalNet this run has from elsewhere', () => {
    const a = mkdtempSync(join(tmpdir(), 'glance-reuse-from-'));
    save(a, 'NormalNet');
    const b = mkdtempSync(join(tmpdir(), 'glance-reuse-from-'));
    save(b, 'GlanceAgain');
    save(b, 'NormalNet', { ...common, lr: 0.5 });
    const { store, state } = fresh();
    expect(reuseCheckpoints(jobs, config, 'fp', a, store, state)).toEqual(['train/NormalNet/seed1']);
    expect(reuseCheckpoints(jobs, config, 'fp', b, store, state)).toEqual([]);
  });

  it('AdvNet is taken only when trained in the units of its reading, an older store\'s unnamed AdvNet included', () => {
    const adv: ExperimentConfig = { ...config, models: ['NormalNet', 'AdvNet'], epsUnits: ['pixel', 'normalized'], train: { ...config.train, advUnits: ['pixel', 'normalized'] } };
    const advJobs = buildJobs(adv, 10000);
    const from = mkdtempSync(join(tmpdir(), 'glance-reuse-from-'));
    // An older glance's AdvNet, trained in pixel units and named without its reading.
    save(from, 'AdvNet', modelTrainConfig(adv.train, 'AdvNet', 'pixel'));
    const store = new RunStore(mkdtempSync(join(tmpdir(), 'glance-reuse-')));
    const state = store.open(adv, false);
    expect(reuseCheckpoints(advJobs, adv, 'fp', from, store, state)).toEqual([trainId('AdvNet', 1, 'pixel')]);
    // Renamed to its reading's checkpoint, whose manifest names the renamed weights.
    const copied = loadCheckpoint(store.checkpointDir, checkpointName('AdvNet', 1, 'pixel'));
    expect(copied.manifest.config.advUnits).toBe('pixel');
    expect(store.read().lines.get('train/AdvNet@pixel/seed1')).toMatchObject({ train: { advUnits: 'pixel', reusedFrom: join(from, 'AdvNet-seed1.json') } });
    // A pixel-trained AdvNet under the normalized name is refused: its manifest says pixel.
    const mislabelled = mkdtempSync(join(tmpdir(), 'glance-reuse-from-'));
    save(mislabelled, 'AdvNet', modelTrainConfig(adv.train, 'AdvNet', 'pixel'), checkpointName('AdvNet', 1, 'normalized'));
    expect(reuseCheckpoints(advJobs, adv, 'fp', mislabelled, store, state)).toEqual([]);
    const right = mkdtempSync(join(tmpdir(), 'glance-reuse-from-'));
    save(right, 'AdvNet', modelTrainConfig(adv.train, 'AdvNet', 'normalized'), checkpointName('AdvNet', 1, 'normalized'));
    expect(reuseCheckpoints(advJobs, adv, 'fp', right, store, state)).toEqual([trainId('AdvNet', 1, 'normalized')]);
  });
});
