/**
 * `glance doctor`: which backends load here (and why not), their versions, and a
 * few-second training-throughput probe per backend on real MNIST. Exits non-zero
 * when no backend loads.
 */
import { Command } from 'commander';
import { resolveDataset } from '../data/registry.js';
import { loadShared, splitView, type SplitView } from '../data/shared.js';
import { MODELS, DEFAULT_TRAIN, type ModelName } from '../experiments/types.js';
import { netSpec } from '../experiments/models.js';

/** Training samples/s of one model for a short run (the second epoch, after warm-up). */
async function throughput(model: ModelName, view: SplitView, images: number): Promise<number> {
  const { initWeights } = await import('../paper/net.js');
  const { trainNet } = await import('../training/train.js');
  const spec = netSpec(model, { glance: { baseLayer: 'scratch', resampling: 'bilinear' } });
  const { history } = trainNet(spec, initWeights(spec, 1), view, { ...DEFAULT_TRAIN, epochs: 2, limit: images }, 1);
  return history[1].samplesPerSec;
}

export function doctorCommand(): Command {
  return new Command('doctor')
    .description('check each TensorFlow.js backend: does it load, which versions, how fast does it train')
    .option('--no-probe', 'skip the throughput probe')
    .action(async (opts: { probe: boolean }) => {
      // Loaded here, not with the program: every other command starts without TensorFlow.js.
      const tf = await import('@tensorflow/tfjs');
      const { configureNativeThreads } = await import('../backend/native-env.js');
      const { availableBackends, nativeAddonPatches } = await import('../backend/probe.js');
      configureNativeThreads();
      const probes = await availableBackends();
      const view = opts.probe ? splitView(loadShared(resolveDataset({ dataset: 'mnist' })), 'train') : undefined;
      for (const p of probes) {
        if (!p.loads) {
          console.log(`${p.name}: does not load: ${p.reason}${p.fix ? `\n  what to do: ${p.fix}` : ''}`);
          continue;
        }
        const v = p.info!;
        console.log(`${p.name}: loads (tfjs ${v.tfjs}${v.tensorflow ? `, TensorFlow ${v.tensorflow}` : ''}${p.tfjsNode ? `, tfjs-node ${p.tfjsNode}` : ''})`);
        if (p.name === 'node') {
          // tfjs-node's own addon races when several worker threads start (scripts/native/patches/).
          console.log(nativeAddonPatches()?.includes('attr-name-set-mutex')
            ? '  worker threads: safe (addon built by npm run native, with its worker-thread patch)'
            : '  worker threads: this addon is unpatched, and two or more workers can crash at start-up; ' +
              'what to do: npm run native -- --force (builds a patched one), or run with --workers 1');
        }
        if (view) {
          await tf.setBackend(p.name === 'node' ? 'tensorflow' : p.name);
          const fast = p.name !== 'cpu';
          const rates: string[] = [];
          for (const m of MODELS) rates.push(`${m} ${Math.round(await throughput(m, view, m === 'GlanceAgain' ? (fast ? 512 : 128) : fast ? 4096 : 1024))}`);
          console.log(`  training samples/s, batch 64, one thread: ${rates.join(', ')}`);
        }
      }
      if (!probes.some((p) => p.loads)) {
        console.error('error: no TensorFlow.js backend loads; reinstall with npm ci');
        process.exitCode = 1;
      }
    });
}
