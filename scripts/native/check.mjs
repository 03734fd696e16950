// Checks that the project's @tensorflow/tfjs runs on @tensorflow/tfjs-node, in the
// main thread and in a worker thread, with one tfjs-core between them.
//
// Run by scripts/native/build.mjs in a child process (loading the addon can crash
// the process, and the build must survive that to undo the install); runnable by
// hand too: node scripts/native/check.mjs. Prints one JSON line:
//   { backend, tensorflow, tfjs, error? }
// with `error` naming what is wrong; exits 0 either way.
//
// Why the tfjs-core comparison: a second copy of tfjs-core shares tfjs's global
// engine, so tf.getBackend() would still say 'tensorflow' (after re-registering
// every kernel, with a warning each). Only resolving @tensorflow/tfjs and
// tfjs-core from the project and from tfjs-node's real path tells the copies apart.

import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, isMainThread, parentPort } from 'node:worker_threads';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const TFJS = ['@tensorflow/tfjs', '@tensorflow/tfjs-core'];

if (isMainThread) {
  process.stdout.write(`${JSON.stringify(await check())}\n`);
  // A loaded addon may hold the event loop open; the answer is written.
  process.exit(0);
} else {
  const tf = await import('@tensorflow/tfjs');
  await import('@tensorflow/tfjs-node');
  parentPort.postMessage(`${tf.getBackend()} ${tf.add(1, 2).dataSync()[0]}`);
}

async function check() {
  const out = {};
  try {
    const tf = await import('@tensorflow/tfjs');
    await import('@tensorflow/tfjs-node');
    out.backend = tf.getBackend();
    out.tensorflow = tf.backend().binding?.TF_Version;
    out.tfjs = tf.version.tfjs;
    const product = Array.from(tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[1], [1]])).dataSync());

    const fromProject = createRequire(path.join(ROOT, 'package.json'));
    const fromNode = createRequire(fs.realpathSync(fromProject.resolve('@tensorflow/tfjs-node')));
    const coreProject = TFJS.map((p) => fs.realpathSync(fromProject.resolve(p))).join(' ');
    const coreNode = TFJS.map((p) => fs.realpathSync(fromNode.resolve(p))).join(' ');

    // This same file, in a worker: the addon is loaded once per process and shared by threads.
    const worker = await new Promise((resolve, reject) => {
      const w = new Worker(new URL(import.meta.url), { execArgv: [] });
      w.once('message', (m) => { resolve(m); w.terminate(); });
      w.once('error', reject);
      w.once('exit', (code) => reject(new Error(`the worker exited (code ${code}) before answering`)));
    });

    const problems = [];
    if (out.backend !== 'tensorflow') {
      problems.push(`the project's @tensorflow/tfjs picked backend '${out.backend}', not 'tensorflow'`);
    }
    if (coreProject !== coreNode) problems.push(`two copies of tfjs: the project uses ${coreProject}, tfjs-node ${coreNode}`);
    if (String(product) !== '3,7') problems.push(`wrong matMul result ${product}`);
    if (worker !== 'tensorflow 3') problems.push(`in a worker thread: ${worker}`);
    if (problems.length) out.error = problems.join('; ');
  } catch (e) {
    out.error = String((e && e.stack) || e).split('\n').slice(0, 6).join('\n');
  }
  return out;
}
