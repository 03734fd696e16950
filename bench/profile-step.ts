/**
 * Kernels of one training step, by name: `npx tsx bench/profile-step.ts [node|wasm] [model]`.
 * The op count, not FLOPs, is what a step of 64 costs on these backends (bench/results.md),
 * so this is the tool for finding kernels a step does not need.
 */
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/backend/select.js';
import { configureNativeThreads } from '../src/backend/native-env.js';
import { resolveDataset } from '../src/data/registry.js';
import { loadShared, splitView } from '../src/data/shared.js';
import { baseSource, netSpec } from '../src/experiments/models.js';
import { PRESETS } from '../src/experiments/presets.js';
import { DEFAULT_TRAIN, type BackendName, type ModelName } from '../src/experiments/types.js';
import { initWeights } from '../src/paper/net.js';
import { trainNet } from '../src/training/train.js';

configureNativeThreads();
const backend = (process.argv[2] ?? 'node') as BackendName;
const model = (process.argv[3] ?? 'GlanceAgain') as ModelName;
await selectBackend(backend);
const view = splitView(loadShared(resolveDataset({ dataset: 'mnist' })), 'train');
const spec = netSpec(model, PRESETS.paper);
const base = baseSource(spec);
const init = initWeights(spec, 1, base ? initWeights(netSpec(base, PRESETS.paper), 1) : undefined);
const cfg = { ...DEFAULT_TRAIN, epochs: 1, limit: 64 };
trainNet(spec, init, view, cfg, 1); // warm up kernels
const info = await tf.profile(() => {
  trainNet(spec, init, view, cfg, 1);
});
const byName = new Map<string, { count: number; ms: number }>();
for (const k of info.kernels) {
  const e = byName.get(k.name) ?? { count: 0, ms: 0 };
  e.count++;
  e.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
  byName.set(k.name, e);
}
const rows = [...byName.entries()].sort((a, b) => b[1].count - a[1].count);
const total = [...byName.values()].reduce((s, e) => s + e.ms, 0);
console.log(`${backend} ${model}: ${info.kernels.length} kernels, ${total.toFixed(1)} ms of kernel time in one step of ${cfg.batchSize} (incl. building the model)`);
for (const [name, e] of rows) console.log(`${name.padEnd(24)} ${String(e.count).padStart(5)} ${e.ms.toFixed(2).padStart(8)} ms`);
