/**
 * Training samples/s of the three models in the tree this file is run from, one
 * process: `npx tsx bench/ab-train.ts [node|wasm] [glance-limit]`. Run it
 * alternately in two checkouts (git worktree) to compare a change before/after
 * as a ratio on a busy machine; prints one JSON line.
 */
import { selectBackend } from '../src/backend/select.js';
import { configureNativeThreads } from '../src/backend/native-env.js';
import { resolveDataset } from '../src/data/registry.js';
import { loadShared, splitView } from '../src/data/shared.js';
import { baseSource, netSpec } from '../src/experiments/models.js';
import { PRESETS } from '../src/experiments/presets.js';
import { DEFAULT_TRAIN, MODELS, type BackendName } from '../src/experiments/types.js';
import { initWeights } from '../src/paper/net.js';
import { trainNet } from '../src/training/train.js';

configureNativeThreads();
const backend = (process.argv[2] ?? 'node') as BackendName;
const glanceLimit = Number(process.argv[3] ?? 1280);
await selectBackend(backend);
const view = splitView(loadShared(resolveDataset({ dataset: 'mnist' })), 'train');
const out: Record<string, number> = {};
for (const model of MODELS) {
  const spec = netSpec(model, PRESETS.paper);
  const limit = model === 'GlanceAgain' ? glanceLimit : 12800;
  const base = baseSource(spec);
  const init = initWeights(spec, 1, base ? initWeights(netSpec(base, PRESETS.paper), 1) : undefined);
  // Epoch 1 warms up kernels; epoch 2 is timed.
  out[model] = Math.round(trainNet(spec, init, view, { ...DEFAULT_TRAIN, epochs: 2, limit }, 1).history[1].samplesPerSec);
}
console.log(JSON.stringify({ backend, ...out }));
