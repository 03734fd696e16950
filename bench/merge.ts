/**
 * Merges the rounds of one backend's (or one peer's) one-worker measurements: the
 * repetitions of matching measurements are pooled, so each median is taken over
 * every round. The first completed round is the base (it has the attacks and the
 * memory peak); a later round that failed leaves the base as it is. Pure.
 */
import type { ChildResult, Measurement, PeerResult } from './types.js';

const key = (m: Measurement) => `${m.kind}/${m.model}/${m.kind === 'attack' ? m.label : ''}`;

export function mergeSingle(rounds: readonly ChildResult[]): ChildResult {
  const done = rounds.filter((r): r is Extract<ChildResult, { mode: 'single' }> => r.state === 'completed' && r.mode === 'single');
  if (done.length === 0) return rounds[0];
  const measurements = done[0].measurements.map((m) => structuredClone(m));
  for (const later of done.slice(1)) {
    for (const m of later.measurements) {
      if (m.state !== 'completed') continue;
      const i = measurements.findIndex((b) => key(b) === key(m));
      const base = measurements[i];
      if (i < 0) measurements.push(structuredClone(m));
      else if (base.state === 'errored') measurements[i] = structuredClone(m);
      else {
        base.perSec.push(...m.perSec);
        base.perCpuSec.push(...m.perCpuSec);
        base.reps += m.reps;
      }
    }
  }
  return { ...done[0], measurements, maxRssMB: Math.max(...done.map((r) => r.maxRssMB)) };
}

export function mergePeer(rounds: readonly PeerResult[]): PeerResult {
  const done = rounds.filter((r): r is Extract<PeerResult, { state: 'completed' }> => r.state === 'completed');
  if (done.length === 0) return rounds[0];
  const models = structuredClone(done[0].models);
  for (const later of done.slice(1)) {
    for (const [model, m] of Object.entries(later.models) as [keyof typeof models, NonNullable<(typeof models)[keyof typeof models]>][]) {
      const base = models[model];
      if ('error' in m) continue;
      if (!base || 'error' in base) models[model] = structuredClone(m);
      else {
        base.samplesPerSec.push(...m.samplesPerSec);
        base.cpuSamplesPerSec.push(...m.cpuSamplesPerSec);
      }
    }
  }
  return { ...done[0], models };
}
