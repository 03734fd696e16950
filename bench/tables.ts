/**
 * The paper's Tables I-III for one seed, in one process, with no store: train
 * NormalNet, AdvNet and GlanceAgain (frozen base from that NormalNet) on the
 * training split, then on the test split measure clean accuracy, FGSM crafted on
 * NormalNet (transfer) and FGSM crafted on each model itself (white-box; for
 * GlanceAgain through one transform draw, and with EOT over K draws), at eps 0.3
 * in pixel and in normalised units. Prints Markdown tables with the paper's values
 * beside ours and a Wilson 95% interval for the test-set sampling (one seed: no
 * spread over seeds).
 *
 *   npx tsx bench/tables.ts --epochs 15 --glance-epochs 2 --backend auto
 *
 * Options: --epochs E (NormalNet, AdvNet; default 15), --glance-epochs G (default E),
 * --backend auto|node|wasm|cpu (default auto: src/backend/select.ts), --seed S (1),
 * --eps 0.3, --eot K (10), --train-limit N, --test-limit N (smoke runs),
 * --batch B (evaluation batch, 500). Progress goes to stderr.
 */
import * as tf from '@tensorflow/tfjs';
import { parseArgs } from 'node:util';
import type { AttackSpec } from '../src/attacks/attack.js';
import { type AttackCount, evaluate } from '../src/attacks/evaluate.js';
import { selectBackend } from '../src/backend/select.js';
import { resolveDataset } from '../src/data/registry.js';
import { loadShared, splitView } from '../src/data/shared.js';
import { netSpec, type NetSpec } from '../src/experiments/models.js';
import { PRESETS } from '../src/experiments/presets.js';
import { DEFAULT_TRAIN, type BackendChoice, type EpsUnits, type ModelName } from '../src/experiments/types.js';
import { initWeights, Net } from '../src/paper/net.js';
import type { WeightSet } from '../src/paper/weights.js';
import { trainNet } from '../src/training/train.js';
import { PAPER_TABLES } from '../src/report/paper.js';

const { values: args } = parseArgs({
  options: {
    epochs: { type: 'string', default: '15' },
    'glance-epochs': { type: 'string' },
    backend: { type: 'string', default: 'auto' },
    seed: { type: 'string', default: '1' },
    eps: { type: 'string', default: '0.3' },
    eot: { type: 'string', default: '10' },
    'train-limit': { type: 'string' },
    'test-limit': { type: 'string' },
    batch: { type: 'string', default: '500' },
  },
});

function int(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new TypeError(`--${name}: expected an integer >= 0, got ${JSON.stringify(v)}`);
  return n;
}

const epochs = int('epochs', args.epochs)!;
const glanceEpochs = int('glance-epochs', args['glance-epochs']) ?? epochs;
const seed = int('seed', args.seed)!;
const eps = Number(args.eps);
const K = int('eot', args.eot)!;
const batchSize = int('batch', args.batch)!;
const trainLimit = int('train-limit', args['train-limit']);
const UNITS: EpsUnits[] = ['pixel', 'normalized'];
const log = (msg: string) => process.stderr.write(`${msg}\n`);

const backend = await selectBackend(args.backend as BackendChoice);
const ds = loadShared(resolveDataset({ dataset: 'mnist' }));
const trainView = splitView(ds, 'train');
const testView = splitView(ds, 'test');
const testEnd = Math.min(int('test-limit', args['test-limit']) ?? testView.count, testView.count);
log(`backend ${backend.name} (tfjs ${backend.tfjs}${backend.tensorflow ? `, TensorFlow ${backend.tensorflow}` : ''}), seed ${seed}`);

function train(spec: NetSpec, e: number, normal?: WeightSet): { weights: WeightSet; seconds: number } {
  const cfg = { ...DEFAULT_TRAIN, epochs: e, ...(trainLimit !== undefined ? { limit: trainLimit } : {}) };
  const t0 = performance.now();
  const { weights } = trainNet(spec, initWeights(spec, seed, normal), trainView, cfg, seed, {
    onEpoch: (r) => log(`  ${spec.model} epoch ${r.epoch}/${r.epochs}: loss ${r.loss.toFixed(4)}, train acc ${r.accuracy.toFixed(2)}%, ${Math.round(r.samplesPerSec)} samples/s`),
  });
  return { weights, seconds: (performance.now() - t0) / 1000 };
}

const timings: string[] = [];
const nets = {} as Record<ModelName, Net>;
const normalTrained = train({ model: 'NormalNet' }, epochs);
nets.NormalNet = new Net({ model: 'NormalNet' }, normalTrained.weights);
timings.push(`NormalNet ${epochs} epochs: ${normalTrained.seconds.toFixed(0)} s`);
const adv = train({ model: 'AdvNet' }, epochs);
nets.AdvNet = new Net({ model: 'AdvNet' }, adv.weights);
timings.push(`AdvNet ${epochs} epochs: ${adv.seconds.toFixed(0)} s`);
const glanceSpec = netSpec('GlanceAgain', PRESETS.paper);
const glance = train(glanceSpec, glanceEpochs, normalTrained.weights);
nets.GlanceAgain = new Net(glanceSpec, glance.weights);
timings.push(`GlanceAgain ${glanceEpochs} epochs: ${glance.seconds.toFixed(0)} s`);

/** Runs evaluate on the test slice and returns its rows, timing it. */
function run(label: string, target: ModelName, source: ModelName, attacks: AttackSpec[]): AttackCount[] {
  const t0 = performance.now();
  const rows = evaluate({
    target: nets[target],
    source: nets[source],
    view: testView,
    start: 0,
    end: testEnd,
    batchSize,
    attacks,
    seed,
    onBatch: (done, total) => {
      if (done === total || done % 2000 === 0) log(`  ${label}: ${done}/${total}`);
    },
  });
  timings.push(`${label}: ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  return rows;
}

const fgsm = UNITS.map((units): AttackSpec => ({ name: 'fgsm', eps, units }));
const eot = UNITS.map((units): AttackSpec => ({ name: 'eot-fgsm', eps, units, eotSamples: K }));
const none: AttackSpec = { name: 'none', eps: 0, units: 'pixel' };

// Transfer: clean + FGSM crafted on NormalNet. For NormalNet itself this is white-box.
const transfer = {} as Record<ModelName, AttackCount[]>;
for (const m of ['NormalNet', 'AdvNet', 'GlanceAgain'] as ModelName[]) transfer[m] = run(`${m} clean + transfer`, m, 'NormalNet', [none, ...fgsm]);
const whiteAdv = run('AdvNet white-box', 'AdvNet', 'AdvNet', fgsm);
const whiteGlance = run('GlanceAgain white-box (1 draw)', 'GlanceAgain', 'GlanceAgain', fgsm);
const whiteGlanceEot = K > 0 ? run(`GlanceAgain white-box (EOT K=${K})`, 'GlanceAgain', 'GlanceAgain', eot) : [];

/** "97.12 (96.8-97.4)": accuracy % with its Wilson 95% interval. */
function cell(r: AttackCount): string {
  const n = r.total;
  const p = r.correct / n;
  const z = 1.959964;
  const centre = (p + (z * z) / (2 * n)) / (1 + (z * z) / n);
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / (1 + (z * z) / n);
  return `${(100 * p).toFixed(2)} (${(100 * (centre - half)).toFixed(1)}-${(100 * (centre + half)).toFixed(1)})`;
}

const out: string[] = [];
out.push(`# Tables I-III, seed ${seed}, ${backend.name} backend`);
out.push('');
out.push(`Training: NormalNet and AdvNet ${epochs} epochs, GlanceAgain ${glanceEpochs} epochs (frozen base from NormalNet), ` +
  `Adam lr ${DEFAULT_TRAIN.lr}, batch ${DEFAULT_TRAIN.batchSize}, on ${trainLimit ?? trainView.count} training images; ` +
  `AdvNet: FGSM eps ${DEFAULT_TRAIN.advEps} (${DEFAULT_TRAIN.advUnits} units), mix ${DEFAULT_TRAIN.advMix}.`);
out.push(`Evaluation: test images [0, ${testEnd}), FGSM eps ${eps}; accuracy % (Wilson 95% interval over test images; one seed).`);
out.push('');
out.push('| model | paper I | clean (I) | paper II | transfer pixel (II) | transfer normalized (II) | paper III | white-box pixel (III) | white-box normalized (III) |');
out.push('|---|---|---|---|---|---|---|---|---|');
const white: Record<ModelName, AttackCount[]> = { NormalNet: transfer.NormalNet.slice(1), AdvNet: whiteAdv, GlanceAgain: whiteGlance };
for (const m of ['NormalNet', 'AdvNet', 'GlanceAgain'] as ModelName[]) {
  const [clean, px, norm] = transfer[m];
  out.push(`| ${m}${m === 'GlanceAgain' ? ' (1 draw)' : ''} | ${PAPER_TABLES.I.accuracy[m]} | ${cell(clean)} | ${PAPER_TABLES.II.accuracy[m]} | ${cell(px)} | ${cell(norm)} | ` +
    `${PAPER_TABLES.III.accuracy[m]} | ${cell(white[m][0])} | ${cell(white[m][1])} |`);
}
if (whiteGlanceEot.length) {
  out.push(`| GlanceAgain, EOT-FGSM K=${K} | | | | | | | ${cell(whiteGlanceEot[0])} | ${cell(whiteGlanceEot[1])} |`);
}
out.push('');
out.push(`Timings: ${timings.join('; ')}.`);
console.log(out.join('\n'));
for (const n of Object.values(nets)) n.dispose();
log(`tensors left: ${tf.memory().numTensors}`);
