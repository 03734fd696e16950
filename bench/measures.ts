/**
 * The measurements a bench worker runs, with the project's own code: trainNet for
 * training throughput, evaluate for attack throughput. Each first warms up
 * (kernels, allocations) and sizes its repetitions from the warm-up rate, then
 * times `reps` repetitions in wall-clock and process-CPU seconds.
 */
import { evaluate } from '../src/attacks/evaluate.js';
import type { AttackSpec } from '../src/attacks/attack.js';
import type { SplitView } from '../src/data/shared.js';
import { baseSource, netSpec, type NetSpec } from '../src/experiments/models.js';
import { PRESETS } from '../src/experiments/presets.js';
import { DEFAULT_TRAIN, type ModelName } from '../src/experiments/types.js';
import { initWeights, Net } from '../src/paper/net.js';
import type { WeightSet } from '../src/paper/weights.js';
import { trainNet } from '../src/training/train.js';
import { batchesFor } from './stats.js';
import type { AttackTask, Measurement, MemorySample, TrainTask } from './types.js';

const SEED = 1;
const MB = 1024 * 1024;

/** Each model as the paper preset builds it (GlanceAgain: frozen base, bilinear resampling). */
export const specOf = (model: ModelName): NetSpec => netSpec(model, PRESETS.paper);

/** A model whose base layer comes from another takes it from that model of the same seed; for speed, its initial weights do. */
function initial(model: ModelName, seed = SEED): WeightSet {
  const spec = specOf(model);
  const base = baseSource(spec);
  return initWeights(spec, seed, base ? initWeights(specOf(base), seed) : undefined);
}

export function memory(): MemorySample {
  const m = process.memoryUsage();
  return { rssMB: m.rss / MB, heapMB: m.heapUsed / MB, externalMB: (m.external + m.arrayBuffers) / MB };
}

const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const now = () => performance.timeOrigin + performance.now();

/**
 * Waits until `count` workers have arrived (pool runs start together after their
 * warm-ups), at most `timeoutMs` (a worker that failed never arrives).
 */
function arrive(barrier: SharedArrayBuffer | undefined, count: number, timeoutMs = 120_000): void {
  if (!barrier) return;
  const cell = new Int32Array(barrier);
  if (Atomics.add(cell, 0, 1) + 1 === count) Atomics.notify(cell, 0);
  const deadline = performance.now() + timeoutMs;
  for (let seen = Atomics.load(cell, 0); seen < count && performance.now() < deadline; seen = Atomics.load(cell, 0)) {
    Atomics.wait(cell, 0, seen, Math.max(1, deadline - performance.now()));
  }
}

/** Training throughput of trainNet, one seed, from fresh initial weights. */
export function measureTraining(view: SplitView, t: TrainTask, barrier?: SharedArrayBuffer, workers = 1): Measurement {
  const spec = specOf(t.model);
  const cfg = { ...DEFAULT_TRAIN, batchSize: t.batchSize, epochs: 1 };
  // Two warm-up epochs: the first pays for kernel set-up, the second's rate sizes the repetitions.
  const warm = trainNet(spec, initial(t.model), view, { ...cfg, epochs: 2, limit: t.warmupImages }, SEED).history;
  const batches = batchesFor(warm[1].samplesPerSec, t.seconds, t.batchSize, t.minBatches, Math.floor(view.count / t.batchSize));
  const limit = t.limit ?? batches * t.batchSize;
  const perSec: number[] = [];
  const perCpuSec: number[] = [];
  arrive(barrier, workers);
  const start = now();
  const cpuStart = cpuSeconds();
  let cpu = cpuStart;
  trainNet(spec, initial(t.model), view, { ...cfg, epochs: t.reps, limit }, SEED, {
    onEpoch: (r) => {
      const c = cpuSeconds();
      perSec.push(r.samplesPerSec);
      perCpuSec.push(limit / (c - cpu));
      cpu = c;
    },
  });
  const end = now();
  return {
    state: 'completed', kind: 'train', model: t.model, limit, reps: t.reps,
    perSec, perCpuSec, start, end, cpuStart, cpuEnd: cpuSeconds(), memory: memory(),
  };
}

/** Models trained for a moment, one per model name, kept for the worker's attack tasks. */
const attacked = new Map<ModelName, Net>();

function modelUnderAttack(train: SplitView, model: ModelName, images: number): Net {
  let net = attacked.get(model);
  if (!net) {
    const { weights } = trainNet(specOf(model), initial(model), train, { ...DEFAULT_TRAIN, epochs: 1, limit: images }, SEED);
    net = new Net(specOf(model), weights);
    attacked.set(model, net);
  }
  return net;
}

/** A cheaper attack with the same kernels and shapes, for the warm-up, and its cost relative to the real one. */
function warmupOf(a: AttackSpec): { spec: AttackSpec; cost: number } {
  if (a.name === 'pgd' || a.name === 'eot-pgd') return { spec: { ...a, steps: 2 }, cost: 2 / (a.steps ?? 40) };
  if (a.name === 'eot-fgsm') return { spec: { ...a, eotSamples: 4 }, cost: 4 / (a.eotSamples ?? 10) };
  return { spec: a, cost: 1 };
}

export function measureAttack(train: SplitView, test: SplitView, t: AttackTask): Measurement {
  const target = modelUnderAttack(train, t.model, t.trainImages);
  const run = (spec: AttackSpec, start: number, end: number) =>
    evaluate({ target, view: test, start, end, batchSize: t.batchSize, attacks: [spec], seed: SEED });
  const warm = warmupOf(t.attack);
  const w0 = performance.now();
  run(warm.spec, 0, t.batchSize);
  const warmRate = (t.batchSize * warm.cost) / ((performance.now() - w0) / 1000);
  const maxBatches = Math.min(t.maxBatches, Math.floor(test.count / t.batchSize));
  const batches = batchesFor(warmRate, t.seconds, t.batchSize, 1, maxBatches);
  const images = batches * t.batchSize;
  const perSec: number[] = [];
  const perCpuSec: number[] = [];
  const start = now();
  const cpuStart = cpuSeconds();
  for (let r = 0; r < t.reps; r++) {
    // Each repetition on other images, aligned to whole batches.
    const first = ((r * batches) % (Math.floor(test.count / t.batchSize) - batches + 1)) * t.batchSize;
    const c0 = cpuSeconds();
    const w = performance.now();
    run(t.attack, first, first + images);
    perSec.push(images / ((performance.now() - w) / 1000));
    perCpuSec.push(images / (cpuSeconds() - c0));
  }
  const end = now();
  return { state: 'completed', kind: 'attack', model: t.model, label: t.label, images, reps: t.reps, perSec, perCpuSec, start, end, cpuStart, cpuEnd: cpuSeconds(), memory: memory() };
}

export function disposeAttacked(): void {
  for (const net of attacked.values()) net.dispose();
  attacked.clear();
}
