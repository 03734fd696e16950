/**
 * The paper's models (src/paper and the models table of src/experiments/models.ts),
 * on real MNIST and the cpu backend: the table, initialisation from the seed, the
 * weight shapes, forward passes (normalised log-probabilities; NormalNet's and
 * GlanceAgain's as written out in plain JS), the base layer GlanceAgain takes from
 * NormalNet (frozen stays fixed, fine-tune trains it), and the gradients of the
 * whole models against central finite differences.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveDataset } from '../src/data/registry.js';
import { loadShared, splitView, type SplitView } from '../src/data/shared.js';
import {
  baseFrozen, baseSource, CLASSES, describeSpec, GLANCE_STEPS, HIDDEN, isRandomized, LSTM_UNITS, MODEL_TABLE, netSpec,
  type NetSpec, normalizeSpec, PIXELS, weightShapes,
} from '../src/experiments/models.js';
import { type BaseLayer, DEFAULT_TRAIN, MODELS, type TrainConfig } from '../src/experiments/types.js';
import { initWeights, Net, trainableNames } from '../src/paper/net.js';
import { Rng } from '../src/paper/rng.js';
import { drawGlance, fixedDraw, type GlanceDraw, glanceSequenceJS } from '../src/paper/transforms.js';
import { cloneWeights, type WeightSet } from '../src/paper/weights.js';
import { meanNll } from '../src/training/loss.js';
import { trainNet } from '../src/training/train.js';
import { denseJS, lstmJS } from './fixtures/reference-js.js';

type GlanceSpec = Extract<NetSpec, { model: 'GlanceAgain' }>;
const NORMAL: NetSpec = { model: 'NormalNet' };
const ADV: NetSpec = { model: 'AdvNet' };
const glanceSpec = (baseLayer: BaseLayer, resampling: GlanceSpec['resampling'] = 'bilinear'): GlanceSpec => ({ model: 'GlanceAgain', baseLayer, resampling });
const GLANCE = glanceSpec('frozen');
const ALL_SPECS: Array<[string, NetSpec]> = [
  ['NormalNet', NORMAL],
  ['AdvNet', ADV],
  ['GlanceAgain frozen', GLANCE],
  ['GlanceAgain fine-tune', glanceSpec('fine-tune')],
  ['GlanceAgain scratch, nearest', glanceSpec('scratch', 'nearest')],
];
const cfg = (limit: number, epochs = 1): TrainConfig => ({ ...DEFAULT_TRAIN, epochs, limit });

let train: SplitView;
let test: SplitView;
/** NormalNet trained on 1,000 images (seed 1): the base layer GlanceAgain takes, and realistic ReLU patterns. */
let normal1k: WeightSet;

beforeAll(async () => {
  await tf.setBackend('cpu');
  const ds = loadShared(resolveDataset({ dataset: 'mnist' }));
  train = splitView(ds, 'train');
  test = splitView(ds, 'test');
  normal1k = trainNet(NORMAL, initWeights(NORMAL, 1), train, cfg(1000), 1).weights;
});

const bytesOf = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const sameBits = (a: Float32Array, b: Float32Array) => Buffer.compare(bytesOf(a), bytesOf(b)) === 0;
const labelsOf = (n: number) => test.labelsAt(Array.from({ length: n }, (_, i) => i));

/** What a net computes on test images [0, n), read back. */
function run(spec: NetSpec, w: WeightSet, n: number, f: (net: Net, x: tf.Tensor2D) => tf.Tensor): Float32Array {
  const net = new Net(spec, w);
  try {
    return tf.tidy(() => f(net, tf.tensor2d(test.range(0, n), [n, test.size])).dataSync() as Float32Array).slice();
  } finally {
    net.dispose();
  }
}

describe('the models table', () => {
  it('NormalNet and AdvNet share an architecture and differ in their objective; GlanceAgain is randomised and takes its base from NormalNet', () => {
    expect(Object.keys(MODEL_TABLE).sort()).toEqual([...MODELS].sort());
    expect(MODEL_TABLE.NormalNet).toEqual({ architecture: 'normalnet', randomized: false, objective: 'clean' });
    expect(MODEL_TABLE.AdvNet).toEqual({ architecture: 'normalnet', randomized: false, objective: 'advnet' });
    expect(MODEL_TABLE.GlanceAgain).toEqual({ architecture: 'glance-again', randomized: true, baseFrom: 'NormalNet', objective: 'clean' });
    expect(MODELS.map(isRandomized)).toEqual(MODELS.map((m) => m === 'GlanceAgain'));
  });

  it('specs: netSpec from a config, the base source and freezing per base-layer option, old manifests normalised', () => {
    const glance = { glance: { baseLayer: 'fine-tune' as const, resampling: 'nearest' as const } };
    expect(netSpec('NormalNet', glance)).toEqual({ model: 'NormalNet' });
    expect(netSpec('AdvNet', glance)).toEqual({ model: 'AdvNet' });
    expect(netSpec('GlanceAgain', glance)).toEqual({ model: 'GlanceAgain', baseLayer: 'fine-tune', resampling: 'nearest' });
    expect([NORMAL, ADV, GLANCE, glanceSpec('fine-tune'), glanceSpec('scratch')].map(baseSource)).toEqual([
      undefined, undefined, 'NormalNet', 'NormalNet', undefined,
    ]);
    expect([NORMAL, ADV, GLANCE, glanceSpec('fine-tune'), glanceSpec('scratch')].map(baseFrozen)).toEqual([false, false, true, false, false]);
    // A manifest written before GlanceAgain had options: the paper's defaults.
    expect(normalizeSpec({ model: 'GlanceAgain' })).toEqual(GLANCE);
    expect(normalizeSpec({ model: 'GlanceAgain', baseLayer: 'scratch' })).toEqual(glanceSpec('scratch'));
    expect(normalizeSpec({ model: 'AdvNet', baseLayer: 'frozen' })).toEqual(ADV);
    expect(describeSpec(GLANCE)).toBe('GlanceAgain (base layer frozen, bilinear)');
  });

  it('weightShapes: the layers of the paper', () => {
    const normal = { 'base.kernel': [PIXELS, HIDDEN], 'base.bias': [HIDDEN], 'out.kernel': [HIDDEN, CLASSES], 'out.bias': [CLASSES] };
    expect(weightShapes(NORMAL)).toEqual(normal);
    expect(weightShapes(ADV)).toEqual(normal);
    const gates = 4 * LSTM_UNITS;
    const glance = {
      'base.kernel': [784, 100], 'base.bias': [100],
      'decode.kernel': [100, 784], 'decode.bias': [784],
      'lstm1.input': [784, gates], 'lstm1.recurrent': [64, gates], 'lstm1.bias': [gates],
      'lstm2.input': [64, gates], 'lstm2.recurrent': [64, gates], 'lstm2.bias': [gates],
      'out.kernel': [64, 10], 'out.bias': [10],
    };
    for (const spec of [GLANCE, glanceSpec('fine-tune'), glanceSpec('scratch', 'nearest')]) expect(weightShapes(spec)).toEqual(glance);
    expect([PIXELS, HIDDEN, CLASSES, LSTM_UNITS, GLANCE_STEPS]).toEqual([784, 100, 10, 64, 6]);
  });
});

describe('initialisation', () => {
  it.each(ALL_SPECS)('%s: every weight of weightShapes, in its order and shape, within PyTorch bounds; fixed by the seed', (_, spec) => {
    const w = initWeights(spec, 3, normal1k);
    const shapes = weightShapes(spec);
    expect(Object.keys(w)).toEqual(Object.keys(shapes));
    for (const [name, shape] of Object.entries(shapes)) {
      expect(w[name].shape, name).toEqual(shape);
      expect(w[name].data.length, name).toBe(shape.reduce((a, b) => a * b, 1));
      // Dense layers U(-1/sqrt(fan_in), ...), LSTMs U(-1/sqrt(64), ...) (a frozen base is NormalNet's, also dense).
      const bound = name.startsWith('lstm') ? 1 / Math.sqrt(LSTM_UNITS) : 1 / Math.sqrt(name.startsWith('base') ? PIXELS : name.startsWith('out') ? shapes['out.kernel'][0] : HIDDEN);
      const max = w[name].data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      if (!(spec.model === 'GlanceAgain' && spec.baseLayer !== 'scratch' && name.startsWith('base'))) {
        expect(max, name).toBeLessThanOrEqual(bound);
        // Spread over the interval: the largest of many draws comes near the bound.
        expect(max, name).toBeGreaterThan((w[name].data.length >= 100 ? 0.95 : 0.3) * bound);
      }
    }
    const again = initWeights(spec, 3, normal1k);
    for (const name of Object.keys(w)) expect(sameBits(again[name].data, w[name].data), name).toBe(true);
    const other = initWeights(spec, 4, normal1k);
    for (const name of Object.keys(w)) {
      const fromNormal = spec.model === 'GlanceAgain' && spec.baseLayer !== 'scratch' && name.startsWith('base');
      expect(sameBits(other[name].data, w[name].data), name).toBe(fromNormal);
    }
  });

  it('AdvNet is NormalNet: the same initial weights from the same seed, the same forward pass', () => {
    const a = initWeights(ADV, 5);
    const b = initWeights(NORMAL, 5);
    for (const name of Object.keys(b)) expect(sameBits(a[name].data, b[name].data), name).toBe(true);
    expect(Array.from(run(ADV, a, 8, (net, x) => net.forward(x)))).toEqual(Array.from(run(NORMAL, b, 8, (net, x) => net.forward(x))));
  });

  it("GlanceAgain: base.* is a copy of NormalNet's (frozen, fine-tune) or its own draw (scratch); every other weight is the same draw for all three", () => {
    const frozen = initWeights(GLANCE, 1, normal1k);
    const fineTune = initWeights(glanceSpec('fine-tune'), 1, normal1k);
    const scratch = initWeights(glanceSpec('scratch'), 1);
    for (const w of [frozen, fineTune]) {
      expect(sameBits(w['base.kernel'].data, normal1k['base.kernel'].data)).toBe(true);
      expect(sameBits(w['base.bias'].data, normal1k['base.bias'].data)).toBe(true);
      expect(w['base.kernel'].data).not.toBe(normal1k['base.kernel'].data); // a copy, not the same array
    }
    expect(sameBits(scratch['base.kernel'].data, normal1k['base.kernel'].data)).toBe(false);
    for (const name of Object.keys(frozen).filter((k) => !k.startsWith('base.'))) {
      expect(sameBits(scratch[name].data, frozen[name].data), name).toBe(true);
      expect(sameBits(fineTune[name].data, frozen[name].data), name).toBe(true);
    }
    expect(() => initWeights(GLANCE, 1)).toThrow(/needs the trained NormalNet weights/);
    expect(() => initWeights(glanceSpec('fine-tune'), 1)).toThrow(/needs the trained NormalNet weights/);
  });

  it('trainableNames and Net: a frozen base layer is a constant, everything else a variable', () => {
    const w = initWeights(GLANCE, 1, normal1k);
    const all = Object.keys(weightShapes(GLANCE));
    expect(trainableNames(GLANCE, w)).toEqual(all.filter((n) => !n.startsWith('base.')));
    expect(trainableNames(glanceSpec('fine-tune'), w)).toEqual(all);
    expect(trainableNames(glanceSpec('scratch'), w)).toEqual(all);
    expect(trainableNames(NORMAL, normal1k)).toEqual(Object.keys(weightShapes(NORMAL)));
    const net = new Net(GLANCE, w);
    try {
      const names = trainableNames(GLANCE, w);
      expect(net.trainable.length).toBe(names.length);
      expect(net.trainable.every((v, i) => v === net.params[names[i]])).toBe(true);
      expect(net.params['base.kernel']).not.toBeInstanceOf(tf.Variable);
      expect(net.trainable.every((v) => v instanceof tf.Variable && v.trainable)).toBe(true);
      // Plain weights in, the same plain weights out (copies).
      const back = net.getWeights();
      expect(Object.keys(back).sort()).toEqual(all.slice().sort());
      for (const n of all) expect(sameBits(back[n].data, w[n].data), n).toBe(true);
    } finally {
      net.dispose();
    }
  });
});

describe('forward passes on real MNIST', () => {
  it.each(ALL_SPECS)('%s: [n, 10] log-probabilities whose rows sum to 1; forward = logSoftmax(logits)', (_, spec) => {
    const n = 5;
    const w = initWeights(spec, 3, normal1k);
    const net = new Net(spec, w);
    const draw = net.draw(new Rng(3), n);
    expect(draw === undefined).toBe(!MODEL_TABLE[spec.model].randomized);
    expect(net.randomized).toBe(MODEL_TABLE[spec.model].randomized);
    const out = tf.tidy(() => {
      const x = tf.tensor2d(test.range(0, n), [n, test.size]);
      const lp = net.forward(x, draw);
      const viaLogits = tf.logSoftmax(net.logits(x, draw));
      return { shape: lp.shape, values: lp.dataSync() as Float32Array, viaLogits: viaLogits.dataSync() as Float32Array };
    });
    net.dispose();
    expect(out.shape).toEqual([n, CLASSES]);
    expect(Array.from(out.values)).toEqual(Array.from(out.viaLogits));
    for (let i = 0; i < n; i++) {
      let sum = 0;
      for (let c = 0; c < CLASSES; c++) {
        const v = out.values[i * CLASSES + c];
        expect(v).toBeLessThanOrEqual(0);
        sum += Math.exp(v);
      }
      expect(sum).toBeCloseTo(1, 5);
    }
  });

  it('NormalNet: the logits are dense(relu(dense(x))) written out in JS, and the trained model classifies held-out images well above chance', () => {
    const n = 200;
    const logits = run(NORMAL, normal1k, n, (net, x) => net.logits(x));
    const w = normal1k;
    const hidden = denseJS(test.range(0, n), n, PIXELS, w['base.kernel'].data, w['base.bias'].data, true);
    const expected = denseJS(hidden, n, HIDDEN, w['out.kernel'].data, w['out.bias'].data);
    for (let k = 0; k < expected.length; k++) expect(logits[k]).toBeCloseTo(expected[k], 4);
    const labels = labelsOf(n);
    let correct = 0;
    for (let i = 0; i < n; i++) {
      const row = Array.from(logits.subarray(i * CLASSES, (i + 1) * CLASSES));
      if (row.indexOf(Math.max(...row)) === labels[i]) correct++;
    }
    // Trained on 1,000 images for one epoch: well above chance (10%).
    expect(correct / n).toBeGreaterThan(0.5);
  });

  it.each(['bilinear', 'nearest'] as const)(
    'GlanceAgain (%s): the logits are the paper\'s composition written out in JS: 6 transformed images -> vision body -> 2 LSTMs -> last state -> dense',
    (resampling) => {
      const spec = glanceSpec('fine-tune', resampling);
      const n = 2;
      const w = initWeights(spec, 2, normal1k);
      const draw = fixedDraw(n, [17, -24, 9, -5], 1.35);
      const logits = run(spec, w, n, (net, x) => net.logits(x, draw));
      const seq = glanceSequenceJS(test.range(0, n), draw, resampling); // [n, 6, 784]
      const rows = n * GLANCE_STEPS;
      const body = denseJS(denseJS(seq, rows, PIXELS, w['base.kernel'].data, w['base.bias'].data, true), rows, HIDDEN, w['decode.kernel'].data, w['decode.bias'].data, true);
      const h1 = lstmJS(body, n, GLANCE_STEPS, PIXELS, LSTM_UNITS, w['lstm1.input'].data, w['lstm1.recurrent'].data, w['lstm1.bias'].data);
      const h2 = lstmJS(h1, n, GLANCE_STEPS, LSTM_UNITS, LSTM_UNITS, w['lstm2.input'].data, w['lstm2.recurrent'].data, w['lstm2.bias'].data);
      const last = new Float64Array(n * LSTM_UNITS);
      for (let i = 0; i < n; i++) last.set(h2.subarray((i * GLANCE_STEPS + GLANCE_STEPS - 1) * LSTM_UNITS, (i * GLANCE_STEPS + GLANCE_STEPS) * LSTM_UNITS), i * LSTM_UNITS);
      const expected = denseJS(last, n, LSTM_UNITS, w['out.kernel'].data, w['out.bias'].data);
      for (let k = 0; k < expected.length; k++) expect(logits[k]).toBeCloseTo(expected[k], 5);
      // Not a comparison of constants: the logits differ between classes and samples.
      expect(Math.max(...expected) - Math.min(...expected)).toBeGreaterThan(1e-2);
    },
  );

  it('GlanceAgain needs a draw; the same draw gives the same output, another draw another', () => {
    const n = 4;
    const w = initWeights(GLANCE, 1, normal1k);
    const net = new Net(GLANCE, w);
    try {
      expect(() => tf.tidy(() => net.forward(tf.zeros([2, 784]) as tf.Tensor2D))).toThrow(/needs a transform draw/);
    } finally {
      net.dispose();
    }
    const once = (draw: GlanceDraw) => run(GLANCE, w, n, (m, x) => m.forward(x, draw));
    const a = drawGlance(new Rng(1), n);
    expect(Array.from(once(a))).toEqual(Array.from(once(a)));
    expect(sameBits(once(a), once(drawGlance(new Rng(2), n)))).toBe(false);
  });
});

describe('the base layer from NormalNet under training', () => {
  it('frozen: base.* stays bit-identical to the NormalNet it came from while every other weight trains', () => {
    const init = initWeights(GLANCE, 1, normal1k);
    const r = trainNet(GLANCE, init, train, cfg(64), 1);
    expect(sameBits(r.weights['base.kernel'].data, normal1k['base.kernel'].data)).toBe(true);
    expect(sameBits(r.weights['base.bias'].data, normal1k['base.bias'].data)).toBe(true);
    for (const n of trainableNames(GLANCE, init)) expect(sameBits(r.weights[n].data, init[n].data), `${n} should have trained`).toBe(false);
  });

  it('fine-tune: base.* starts as NormalNet\'s and trains', () => {
    const spec = glanceSpec('fine-tune');
    const r = trainNet(spec, initWeights(spec, 1, normal1k), train, cfg(64), 1);
    expect(sameBits(r.weights['base.kernel'].data, normal1k['base.kernel'].data)).toBe(false);
    expect(sameBits(r.weights['base.bias'].data, normal1k['base.bias'].data)).toBe(false);
  });
});

describe('gradients of the whole models agree with central finite differences (cpu, float32)', () => {
  /**
   * Steps tried in order: the first whose segment [-h, h] crosses no ReLU kink is used.
   * One float32 ulp of a loss near 2.3 is 2.4e-7, so the difference quotient carries
   * noise of about 1.2e-7 / h per ulp; the tolerance is REL * |analytic| + 2 ulps of it,
   * and a probe needs |analytic| >= 10x that floor. Seen: relative errors up to 1%.
   */
  const STEPS = [1e-2, 3e-3];
  const REL = 0.02;
  const absTol = (h: number) => 2.4e-7 / h;
  const MAX_TRIES = 200;

  /** Mean NLL of the labels of test images [0, n) at input x ([n * 784]) and weights w, as a float32 number. */
  function loss(spec: NetSpec, w: WeightSet, x: Float32Array, draw?: GlanceDraw): number {
    const net = new Net(spec, w);
    try {
      const n = x.length / PIXELS;
      return tf.tidy(() => meanNll(net.logits(tf.tensor2d(x, [n, PIXELS]), draw), tf.tensor1d(labelsOf(n), 'int32')).dataSync()[0]);
    } finally {
      net.dispose();
    }
  }

  /** Signs of every ReLU's input (float64 JS forward), to keep finite differences off the kinks. */
  function reluPattern(spec: NetSpec, w: WeightSet, x: Float32Array, draw?: GlanceDraw): string {
    const rows = draw ? glanceSequenceJS(x, draw, (spec as GlanceSpec).resampling) : x;
    const count = rows.length / PIXELS;
    const bits: number[] = [];
    const dense = (input: ArrayLike<number>, inSize: number, name: string): Float64Array => {
      const z = denseJS(input, count, inSize, w[`${name}.kernel`].data, w[`${name}.bias`].data);
      for (const v of z) bits.push(v > 0 ? 1 : 0);
      return z.map((v) => Math.max(v, 0));
    };
    const h1 = dense(rows, PIXELS, 'base');
    if (draw) dense(h1, HIDDEN, 'decode');
    return bits.join('');
  }

  interface Probe {
    what: string;
    step: number;
    analytic: number;
    numeric: number;
  }

  /**
   * One coordinate of the input or of a weight, changed in place in a private copy:
   * set(k, v) writes v there and returns the point; value(k) is the unchanged value.
   */
  interface Coordinates {
    value(k: number): number;
    set(k: number, v: number): { w: WeightSet; x: Float32Array };
  }

  /** Central differences at the `count` coordinates with the largest analytic gradient that sit off ReLU kinks. */
  function probes(what: string, analytic: Float32Array, count: number, c: Coordinates, spec: NetSpec, draw?: GlanceDraw): Probe[] {
    const order = Array.from(analytic.keys()).sort((a, b) => Math.abs(analytic[b]) - Math.abs(analytic[a]));
    const centre = c.set(order[0], c.value(order[0]));
    const p0 = reluPattern(spec, centre.w, centre.x, draw);
    const out: Probe[] = [];
    for (const k of order.slice(0, MAX_TRIES)) {
      if (out.length === count) break;
      const v = c.value(k);
      for (const h of STEPS) {
        if (Math.abs(analytic[k]) < 10 * absTol(h)) break;
        const up = Math.fround(v + h);
        const down = Math.fround(v - h);
        const plus = c.set(k, up);
        if (reluPattern(spec, plus.w, plus.x, draw) !== p0) continue;
        const lossUp = loss(spec, plus.w, plus.x, draw);
        const minus = c.set(k, down);
        if (reluPattern(spec, minus.w, minus.x, draw) !== p0) continue;
        const lossDown = loss(spec, minus.w, minus.x, draw);
        out.push({ what: `${what}[${k}]`, step: h, analytic: analytic[k], numeric: (lossUp - lossDown) / (up - down) });
        break;
      }
      c.set(k, v);
    }
    expect(out.length, `${what}: kink-free coordinates found`).toBe(count);
    return out;
  }

  function check(spec: NetSpec, w: WeightSet, n: number, names: string[], draw?: GlanceDraw): Probe[] {
    const x = test.range(0, n);
    const y = labelsOf(n);
    const net = new Net(spec, w);
    const { gx, gw } = tf.tidy(() => {
      const yt = tf.tensor1d(y, 'int32');
      const xt = tf.tensor2d(x, [n, PIXELS]);
      const gx = tf.grad((xi: tf.Tensor) => meanNll(net.logits(xi as tf.Tensor2D, draw), yt))(xt).dataSync() as Float32Array;
      const { grads } = tf.variableGrads(() => meanNll(net.logits(xt, draw), yt), net.trainable);
      const gw: Record<string, Float32Array> = {};
      for (const name of names) gw[name] = grads[(net.params[name] as tf.Variable).name].dataSync() as Float32Array;
      return { gx, gw };
    });
    net.dispose();
    const all: Probe[] = [];
    const xs = x.slice();
    all.push(...probes('x', gx, 4, { value: (k) => x[k], set: (k, v) => ((xs[k] = v), { w, x: xs }) }, spec, draw));
    for (const name of names) {
      const ws = cloneWeights(w);
      const coords: Coordinates = { value: (k) => w[name].data[k], set: (k, v) => ((ws[name].data[k] = v), { w: ws, x }) };
      all.push(...probes(name, gw[name], 2, coords, spec, draw));
    }
    for (const p of all) {
      expect(Math.abs(p.analytic - p.numeric), `${p.what} (h ${p.step}): analytic ${p.analytic}, numeric ${p.numeric}`).toBeLessThanOrEqual(
        REL * Math.abs(p.analytic) + absTol(p.step),
      );
    }
    return all;
  }

  it('NormalNet: input and weights of both layers', () => {
    const probed = check(NORMAL, normal1k, 2, ['base.kernel', 'base.bias', 'out.kernel', 'out.bias']);
    expect(probed.length).toBe(12);
  });

  it('GlanceAgain (fine-tune, fixed draw): input, vision body, both LSTMs, output', () => {
    const spec = glanceSpec('fine-tune');
    const w = initWeights(spec, 2, normal1k);
    const draw = fixedDraw(1, [17, -24, 9, -5], 1.35);
    const names = ['base.kernel', 'base.bias', 'decode.kernel', 'lstm1.input', 'lstm1.recurrent', 'lstm2.bias', 'out.kernel'];
    const probed = check(spec, w, 1, names, draw);
    expect(probed.length).toBe(4 + 2 * names.length);
  });
});
