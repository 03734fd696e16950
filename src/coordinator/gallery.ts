/**
 * `glance gallery RUN_DIR`: a few clean and adversarial digits per trained model
 * of the run's first seed, drawn into reports/<run-id>/gallery.svg. The crafting
 * needs tfjs, so it runs in a worker thread (workers/gallery-entry.ts) and this
 * process stays free of it; the models are the checkpoints the run's training
 * records name.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { resolveDataset } from '../data/registry.js';
import { loadShared, splitView } from '../data/shared.js';
import { GlanceError } from '../errors.js';
import { EPS_UNITS, type EpsUnits, type TrainRecord } from '../experiments/types.js';
import { PAPER_EPS, renderGallerySvg, variantOf } from '../report/index.js';
import { checkpointExists } from '../training/checkpoint.js';
import type { GalleryOutcome, GalleryTask } from '../workers/protocol.js';
import { workerScript } from '../workers/spawn.js';
import { RunStore, type JobLine } from './store.js';
import { GALLERY_FILE, reportDir } from './write-report.js';
import { configureNativeThreads } from '../backend/native-env.js';

export interface GalleryOptions {
  reportsRoot?: string;
  /** How many images of the evaluation split, from its start. Default 8. */
  count?: number;
}

/** At most three eps of the run: all when few; else the smallest, the paper's (or the middle one) and the largest. */
export function galleryEps(eps: readonly number[]): number[] {
  const e = [...new Set(eps.filter((x) => x > 0))].sort((a, b) => a - b);
  if (e.length <= 3) return e;
  const mid = e.find((x) => Math.abs(x - PAPER_EPS) < 1e-9) ?? e[Math.floor(e.length / 2)];
  return [...new Set([e[0], mid, e[e.length - 1]])];
}

/** The units a trained model is attacked in: an AdvNet trained for one reading ('AdvNet@pixel') in that one only. */
function unitsOf(checkpoint: string, runUnits: readonly EpsUnits[]): EpsUnits[] {
  const tag = /@([a-z]+)-seed\d+$/.exec(checkpoint)?.[1];
  return tag && (EPS_UNITS as readonly string[]).includes(tag) ? runUnits.filter((u) => u === tag) : [...runUnits];
}

export async function writeGallery(runDir: string, opts: GalleryOptions = {}): Promise<{ file: string; panels: number }> {
  const count = opts.count ?? 8;
  if (!(Number.isInteger(count) && count >= 1 && count <= 32)) {
    throw new GlanceError('BAD_OPTION', `gallery: --count must be an integer from 1 to 32, got ${count}`, 'pass --count 8');
  }
  const store = new RunStore(runDir);
  store.requireRun();
  const { config } = store.readStored();
  const trained = [...store.read().lines.values()]
    .flatMap((l: JobLine) => (l.status === 'done' && l.train ? [l.train] : []))
    .filter((t: TrainRecord) => checkpointExists(store.checkpointDir, t.checkpoint));
  if (trained.length === 0) {
    throw new GlanceError('STORE_INCOMPLETE', `gallery: ${runDir} has no trained model with its checkpoint in ${store.checkpointDir}`,
      'let the run finish its training jobs (or resume it), then run glance gallery again');
  }
  const seed = Math.min(...trained.map((t) => t.seed));
  const rank = (t: TrainRecord) => config.models.indexOf(t.model);
  const models = trained
    .filter((t) => t.seed === seed)
    .sort((a, b) => rank(a) - rank(b) || (a.checkpoint < b.checkpoint ? -1 : 1))
    .map((t) => ({ label: variantOf(t), checkpoint: t.checkpoint, units: unitsOf(t.checkpoint, config.epsUnits) }));
  const eps = galleryEps(config.eps);
  const view = splitView(loadShared(resolveDataset({ dataset: config.dataset, dataDir: config.dataDir })), config.eval.split);
  const n = Math.min(count, view.count);
  const idx = Array.from({ length: n }, (_, i) => i);
  const task: GalleryTask = {
    backend: config.backend, checkpointDir: store.checkpointDir, models, eps, seed, images: view.images(idx), labels: view.labelsAt(idx),
  };
  const outcome = await inWorker(task);
  const svg = renderGallerySvg({
    clean: task.images,
    labels: task.labels,
    rows: outcome.panels,
    caption: `run ${runDir.replace(/\/+$/, '').split('/').pop()}, seed ${seed}, the first ${n} images of the ${config.eval.split} split, ${outcome.backend.name} backend`,
  });
  const dir = reportDir(runDir, opts.reportsRoot);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, GALLERY_FILE);
  writeFileSync(file, svg);
  return { file, panels: outcome.panels.length };
}

function inWorker(task: GalleryTask): Promise<GalleryOutcome> {
  // One TensorFlow thread, as the pool's workers (pool.ts): the machine is shared.
  configureNativeThreads();
  const script = workerScript('../workers/gallery-entry.js', import.meta.url);
  return new Promise((resolve, reject) => {
    const worker = new Worker(script.filename, { argv: script.argv, workerData: task });
    let answered = false;
    worker.once('message', (m: GalleryOutcome) => {
      answered = true;
      resolve(m);
      // A backend may hold the thread's event loop open: the answer is all we need from it.
      void worker.terminate();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (!answered) reject(new Error(`gallery worker exited with code ${code} before it answered`));
    });
  });
}
