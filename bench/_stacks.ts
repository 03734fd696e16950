import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/backend/select.js';
import { configureNativeThreads } from '../src/backend/native-env.js';
import { resolveDataset } from '../src/data/registry.js';
import { loadShared, splitView } from '../src/data/shared.js';
import { initWeights } from '../src/models/net.js';
import { DEFAULT_TRAIN, trainNet } from '../src/models/train.js';
configureNativeThreads();
await selectBackend(process.argv[2] as any);
const view = splitView(loadShared(resolveDataset({ dataset: 'mnist' })), 'train');
const spec = { model: 'GlanceAgain' as const, baseLayer: 'frozen' as const };
const init = initWeights(spec, 1, initWeights({ model: 'NormalNet' }, 1));
const cfg = { ...DEFAULT_TRAIN, epochs: 1, limit: 64 };
trainNet(spec, init, view, cfg, 1);
const eng = tf.engine() as any;
const orig = eng.runKernel.bind(eng);
const want = new Set(process.argv.slice(3));
const stacks = new Map<string, number>();
eng.runKernel = (name: string, inputs: any, attrs: any) => {
  if (want.has(name)) {
    const s = new Error().stack!.split('\n').slice(2, 9).map((l) => l.trim().replace(/\(.*node_modules\//, '(').replace(/\(file:\/\/.*\/src\//, '(src/')).join(' | ');
    stacks.set(name + ' ' + s, (stacks.get(name + ' ' + s) ?? 0) + 1);
  }
  return orig(name, inputs, attrs);
};
trainNet(spec, init, view, cfg, 1);
for (const [k, v] of [...stacks.entries()].sort((a, b) => b[1] - a[1])) console.log(v, k, '\n');
