/**
 * Replicate packing vs training alone, interleaved in one process so the ratio
 * survives a busy machine: `npx tsx bench/packing.ts [node|wasm] [R]`.
 * Prints replicate-samples/s of R seeds packed and of one seed alone, per model.
 */
import { selectBackend } from '../src/backend/select.js';
import { configureNativeThreads } from '../src/backend/native-env.js';
import { resolveDataset } from '../src/data/registry.js';
import { loadShared, splitView } from '../src/data/shared.js';
import type { BackendName, ModelName } from '../src/experiments/types.js';
import { initWeights } from '../src/models/net.js';
import { trainPacked } from '../src/models/packed.js';
import { DEFAULT_TRAIN, trainNet } from '../src/models/train.js';

configureNativeThreads();
const backend = (process.argv[2] ?? 'node') as BackendName;
const r = Number(process.argv[3] ?? 5);
await selectBackend(backend);
const view = splitView(loadShared(resolveDataset({ dataset: 'mnist' })), 'train');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

for (const model of ['NormalNet', 'AdvNet', 'GlanceAgain'] as ModelName[]) {
  const spec = { model, baseLayer: 'frozen' as const };
  const limit = model === 'GlanceAgain' ? 640 : 6400;
  const cfg = { ...DEFAULT_TRAIN, epochs: 2, limit };
  const seeds = Array.from({ length: r }, (_, i) => i + 1);
  const init = (s: number) => initWeights(spec, s, initWeights({ model: 'NormalNet' }, s));
  const alone: number[] = [];
  const packed: number[] = [];
  for (let rep = 0; rep < 3; rep++) {
    alone.push(trainNet(spec, init(1), view, cfg, 1).history[1].samplesPerSec);
    packed.push(trainPacked(spec, seeds.map(init), view, cfg, seeds)[0].history[1].samplesPerSec);
  }
  console.log(`${backend} ${model}: alone ${Math.round(median(alone))}, ${r} packed ${Math.round(median(packed))} replicate-samples/s, ratio ${(median(packed) / median(alone)).toFixed(2)}x`);
}
