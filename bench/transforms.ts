/**
 * Throughput of the GlanceAgain transforms for one batch of 64 images: the pure-JS
 * forward (the 6-image sequence) and adjoint, both resamplings, and the tf op
 * (forward + gradient) on the cpu backend. Run: npx tsx bench/transforms.ts
 */
import * as tf from '@tensorflow/tfjs';
import type { Resampling } from '../src/experiments/types.js';
import { GLANCE_STEPS, PIXELS } from '../src/experiments/models.js';
import { Rng } from '../src/paper/rng.js';
import { drawGlance, glanceSequence, glanceSequenceAdjointJS, glanceSequenceJS } from '../src/paper/transforms.js';

const BATCH = 64;
const SECONDS = 1;

/** Median and fastest milliseconds per call of f, after a warm-up, over about SECONDS. */
function time(f: () => void): { median: number; min: number } {
  for (let i = 0; i < 20; i++) f();
  const samples: number[] = [];
  const end = performance.now() + SECONDS * 1000;
  while (performance.now() < end) {
    const t0 = performance.now();
    f();
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  return { median: samples[samples.length >> 1], min: samples[0] };
}

function report(name: string, t: { median: number; min: number }): void {
  const rate = (ms: number) => String(Math.round((BATCH / ms) * 1000)).padStart(7);
  console.log(
    `${name.padEnd(26)} median ${t.median.toFixed(3)} ms (${rate(t.median)} samples/s)` +
      `   best ${t.min.toFixed(3)} ms (${rate(t.min)} samples/s)   batch ${BATCH}`,
  );
}

async function main(): Promise<void> {
  await tf.setBackend('cpu');
  const rng = new Rng(1);
  const x = new Float32Array(BATCH * PIXELS);
  for (let i = 0; i < x.length; i++) x[i] = rng.next();
  const seq = new Float32Array(BATCH * GLANCE_STEPS * PIXELS);
  const grad = new Float32Array(BATCH * PIXELS);
  const gOut = new Float32Array(seq.length);
  for (let i = 0; i < gOut.length; i++) gOut[i] = rng.uniform(-1, 1);

  for (const mode of ['bilinear', 'nearest'] as Resampling[]) {
    // A fresh draw per call, as in training.
    report(`forward JS (${mode})`, time(() => glanceSequenceJS(x, drawGlance(rng, BATCH), mode, seq)));
    report(`adjoint JS (${mode})`, time(() => glanceSequenceAdjointJS(gOut, drawGlance(rng, BATCH), mode, grad)));
  }

  const xT = tf.tensor2d(x, [BATCH, PIXELS]);
  const wT = tf.tensor3d(gOut, [BATCH, GLANCE_STEPS, PIXELS]);
  // Read results outside tf.tidy: a tidy that returns a large typed array walks
  // every element looking for tensors (hundreds of ms for [64, 6, 784]).
  report('tf op forward (cpu)', time(() => {
    const y = tf.tidy(() => glanceSequence(xT, drawGlance(rng, BATCH), 'bilinear'));
    y.dataSync();
    y.dispose();
  }));
  report('tf op forward+grad (cpu)', time(() => {
    const draw = drawGlance(rng, BATCH);
    // dy given directly (the VJP of the op itself), so no cpu-backend mul/sum is timed.
    const g = tf.tidy(() => tf.grad((v: tf.Tensor) => glanceSequence(v as tf.Tensor2D, draw))(xT, wT));
    g.dataSync();
    g.dispose();
  }));
  tf.dispose([xT, wT]);
}

await main();
