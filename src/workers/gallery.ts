/**
 * The digit gallery's tensor work: each trained model of one seed, loaded from
 * its checkpoint, attacked with white-box FGSM (attacks/, the same code the
 * evaluation runs) on a few images at each eps and unit, and asked what it sees
 * in the clean and the adversarial images. The randomness is the evaluation's
 * for the first images of the split (attack and classification streams), so the
 * gallery shows what the run measured on those images.
 */
import * as tf from '@tensorflow/tfjs';
import { craft } from '../attacks/attack.js';
import { sampleRandom } from '../attacks/random.js';
import { normalizeSpec } from '../experiments/models.js';
import { Net } from '../paper/net.js';
import { Stream } from '../paper/rng.js';
import { loadCheckpoint } from '../training/checkpoint.js';
import type { GalleryPanel, GalleryTask } from './protocol.js';

/** Runs on the current tfjs backend; every tensor is disposed before it returns. */
export function craftGallery(task: GalleryTask): GalleryPanel[] {
  const n = task.labels.length;
  if (task.images.length !== n * 784) {
    throw new RangeError(`gallery: ${task.images.length} pixels for ${n} labels; expected ${n} images of 784 pixels`);
  }
  const panels: GalleryPanel[] = [];
  const x = tf.tensor2d(task.images, [n, 784]);
  const y = tf.tensor1d(task.labels, 'int32');
  try {
    for (const m of task.models) {
      const { manifest, weights } = loadCheckpoint(task.checkpointDir, m.checkpoint);
      const net = new Net(normalizeSpec(manifest.spec), weights);
      try {
        // One classification draw for the clean and every attacked image, as the evaluation does per batch.
        const evalDraw = sampleRandom(task.seed, Stream.evalTransforms, 0, n).draw(net);
        const predict = (images: tf.Tensor2D) => Array.from(tf.tidy(() => tf.argMax(net.forward(images, evalDraw), 1).dataSync() as Int32Array));
        const cleanPredictions = predict(x);
        for (const units of m.units) {
          for (const eps of task.eps) {
            const adv = craft(net, x, y, { name: 'fgsm', eps, units }, sampleRandom(task.seed, Stream.attack, 0, n));
            try {
              panels.push({ label: m.label, eps, units, adversarial: adv.dataSync() as Float32Array, cleanPredictions, predictions: predict(adv) });
            } finally {
              adv.dispose();
            }
          }
        }
      } finally {
        net.dispose();
      }
    }
  } finally {
    x.dispose();
    y.dispose();
  }
  return panels;
}
