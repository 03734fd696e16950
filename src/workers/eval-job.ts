/**
 * An evaluation job: one (model, seed, threat, attack, gradient) over a slice of
 * the evaluation split, every eps (and, for one-step attacks, every eps unit) in
 * one pass; returns counts and which examples were correct (`correctBits`).
 */
import { splitView, type SharedDataset } from '../data/shared.js';
import type { EvalJob } from '../experiments/grid.js';
import { checkpointName, netSpec } from '../experiments/models.js';
import { encodeBits } from '../experiments/example-bits.js';
import { GRADIENT_ATTACKS, type BackendInfo, type EvalResult, type JobProgress, type ModelName } from '../experiments/types.js';
import { isPgd, type ResolvedAttack } from '../attacks/attack.js';
import { evaluate, sweep } from '../attacks/evaluate.js';
import { Net } from '../paper/net.js';
import { configHash } from '../experiments/config-hash.js';
import { loadCheckpoint } from '../training/checkpoint.js';
import type { WorkerTask } from './protocol.js';

/** The attack as run; PGD adds its restarts and loss, Square its query budget. */
function attackParams(s: ResolvedAttack): NonNullable<EvalResult['attackParams']> {
  const common = { eotSamples: s.eotSamples, steps: s.steps, stepSize: s.stepSize, randomStart: s.randomStart, target: s.target };
  if (isPgd(s.name)) return { ...common, restarts: s.restarts, loss: s.loss };
  if (s.name === 'square') return { ...common, queries: s.queries };
  return common;
}

export function runEvalJob(job: EvalJob, task: WorkerTask, dataset: SharedDataset, backend: BackendInfo, sink: (p: JobProgress) => void): EvalResult[] {
  const config = task.config;
  const t0 = performance.now();
  const load = (model: ModelName) => {
    const spec = netSpec(model, config);
    const { weights } = loadCheckpoint(task.checkpointDir, checkpointName(model, job.seed, job.advUnits), { spec, dataFingerprint: dataset.fingerprint, seed: job.seed, configHash: configHash(config) });
    return new Net(spec, weights);
  };
  const target = load(job.model);
  const source = job.source === job.model ? undefined : load(job.source);
  try {
    const counts = evaluate({
      target,
      source,
      view: splitView(dataset, config.eval.split),
      start: job.start,
      end: job.end,
      batchSize: config.eval.batchSize,
      attacks: job.epsUnits.flatMap((units) =>
        sweep(
          {
            name: job.attack,
            units,
            eotSamples: config.eotSamples,
            steps: config.pgd.steps,
            randomStart: config.pgd.randomStart,
            restarts: config.pgd.restarts,
            loss: config.pgd.loss,
            queries: config.square.queries,
            // A job of an older glance's grid names no gradient: its attacks were float32.
            gradient: job.gradient ?? 'float32',
          },
          job.attack === 'none' ? [0] : job.eps,
        ),
      ),
      seed: job.seed,
      onBatch: (done, total) => sink({ fraction: done / total, detail: `${done}/${total} images` }),
    });
    const seconds = (performance.now() - t0) / 1000;
    return counts.map((c) => ({
      kind: 'eval',
      dataset: config.dataset,
      model: job.model,
      seed: job.seed,
      threat: job.threat,
      attack: job.attack,
      source: job.source,
      ...(job.advUnits ? { advUnits: job.advUnits } : {}),
      eps: c.eps,
      epsUnits: c.units,
      split: config.eval.split,
      start: job.start,
      end: job.end,
      correct: c.correct,
      total: c.total,
      correctBits: encodeBits(c.correctFlags),
      ...(c.targetHits !== undefined ? { targetHits: c.targetHits } : {}),
      backend,
      seconds,
      ...(GRADIENT_ATTACKS.includes(job.attack) ? { gradient: c.spec.gradient } : {}),
      ...(job.attack !== 'none' ? { attackParams: attackParams(c.spec) } : {}),
    }));
  } finally {
    target.dispose();
    source?.dispose();
  }
}
