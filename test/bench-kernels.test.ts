import { describe, expect, it } from 'vitest';
import { estimatePreset, type Estimate, type EstimateRates } from '../bench/estimate.js';
import { summarizeKernels } from '../bench/kernels.js';
import { ALL_OFF, kernelEntries, kernelSequence, ON, type KernelEntry } from '../bench/plan.js';
import { renderMarkdown } from '../bench/report.js';
import { summarizeRun } from '../bench/summary.js';
import type { AblationRun, ChildResult, Measurement } from '../bench/types.js';
import type { ModelName } from '../src/experiments/types.js';

describe('kernel ablation plan', () => {
  it('one entry per op (its Grad kernel with it), one per stock fix of the backend, then all off', () => {
    expect(kernelEntries('node', ['GlanceReluGrad', 'GlanceLstmGrad', 'GlanceSoftmaxXent', 'GlanceLstm']).map((e) => e.disable)).toEqual([
      ['GlanceLstm', 'GlanceLstmGrad'], ['GlanceReluGrad'], ['GlanceSoftmaxXent'], ['all'],
    ]);
    expect(kernelEntries('wasm', ['GlanceLstm', 'GlanceLstmGrad']).map((e) => e.label)).toEqual([
      'GlanceLstm + GlanceLstmGrad', 'BatchMatMul', 'Slice', 'Sum', 'all off',
    ]);
    expect(kernelEntries('cpu', [])).toEqual([]);
  });

  it('alternates on and off runs, every off run between two on runs, passes in alternating order', () => {
    const [a, b] = [{ label: 'a', disable: ['a'] }, { label: 'b', disable: ['b'] }];
    const labels = (s: KernelEntry[]) => s.map((e) => e.label);
    expect(labels(kernelSequence([a, b], 2, 1))).toEqual(['on', 'a', 'on', 'b', 'on', 'b', 'on', 'a', 'on']);
    expect(labels(kernelSequence([a, b], 1, Infinity))).toEqual(['on', 'a', 'b', 'on']);
    expect(kernelSequence([], 2, 1)).toEqual([]);
  });
});

const measurement = (model: ModelName, perSec: number[]): Measurement => ({
  state: 'completed', kind: 'train', model, limit: 640, reps: perSec.length, perSec, perCpuSec: perSec, start: 0, end: 1, cpuStart: 0, cpuEnd: 1,
  memory: { rssMB: 1, heapMB: 1, externalMB: 1 },
});

/** A run whose models train at `rates` (samples/s); its worker's kernels fingerprinted by what was disabled. */
function run(e: KernelEntry, rates: Record<ModelName, number>): AblationRun {
  const fingerprints: Record<string, string> = { GlanceLstm: 'fast', GlanceLstmGrad: 'fast', GlanceReluGrad: 'fast' };
  for (const n of e.disable) fingerprints[n] = 'reference';
  if (e.disable.includes('all')) for (const n of Object.keys(fingerprints)) fingerprints[n] = 'reference';
  const result: ChildResult = {
    state: 'completed', backend: 'node', info: { name: 'node', tfjs: '4.22.0' }, mode: 'single', baselineRssMB: 1, maxRssMB: 2,
    measurements: (Object.entries(rates) as [ModelName, number][]).map(([m, r]) => measurement(m, [r, r])),
    kernels: { fast: e.disable.length ? [] : ['GlanceLstm', 'GlanceLstmGrad', 'GlanceReluGrad'], fingerprints },
  };
  return { backend: 'node', config: e.label, disable: e.disable, result };
}

describe('kernel ablation summary', () => {
  const lstm = { label: 'GlanceLstm + GlanceLstmGrad', disable: ['GlanceLstm', 'GlanceLstmGrad'] };
  const relu = { label: 'GlanceReluGrad', disable: ['GlanceReluGrad'] };
  const on = { NormalNet: 60_000, AdvNet: 30_000, GlanceAgain: 6_000 };
  const rates: EstimateRates = {
    train: on,
    eval: { NormalNet: { clean: 100_000, fgsm: 50_000 }, GlanceAgain: { clean: 10_000, fgsm: 5_000, 'eot-fgsm-10': 1_000 } },
  };

  it('compares each off run with the on runs next to it, and weighs the ratios by the preset estimate', () => {
    // The machine slows down half-way: the on runs next to the LSTM's off run are at full speed, those next to ReLU's at half.
    const half = (r: Record<ModelName, number>) => Object.fromEntries(Object.entries(r).map(([m, x]) => [m, x / 2])) as Record<ModelName, number>;
    const runs = [
      run(ON, on), run(lstm, { ...on, GlanceAgain: 3_000 }), run(ON, on),
      run(ON, half(on)), run(relu, half({ ...on, NormalNet: 48_000 })), run(ON, half(on)),
    ];
    const k = summarizeKernels('node', runs, { rates, workers: 1, efficiency: 1 })!;
    expect(k.basis).toBe('preset');
    expect(k.fast).toEqual(['GlanceLstm', 'GlanceLstmGrad', 'GlanceReluGrad']);
    expect(k.processes).toBe(6);
    const [l, r] = k.rows;
    expect(l.ratio).toEqual({ NormalNet: 1, AdvNet: 1, GlanceAgain: 0.5 });
    expect(r.ratio.NormalNet).toBeCloseTo(0.8, 9);
    expect(r.ratio.GlanceAgain).toBeCloseTo(1, 9);
    // GlanceAgain at half speed: its training (5 seeds x 15 epochs x 60,000 images) takes twice as long.
    const base = estimatePreset(rates, 1, 1) as Estimate;
    expect(l.presetOn).toBeCloseTo(base.wallSeconds, 6);
    expect(l.presetOff! - l.presetOn!).toBeCloseTo((5 * 15 * 60_000) / 6_000, 6);
    expect(l.saved).toBeCloseTo(1 - l.presetOn! / l.presetOff!, 12);
    expect(l.warning).toBeUndefined();
  });

  it('without evaluation rates weighs the training jobs alone; flags an off run that kept its kernel', () => {
    const stale = run(relu, on);
    const probe = (stale.result as Extract<ChildResult, { mode: 'single' }>).kernels!;
    probe.fingerprints.GlanceReluGrad = 'fast';
    const k = summarizeKernels('node', [run(ON, on), stale, run(ON, on), run(ALL_OFF, { NormalNet: 30_000, AdvNet: 15_000, GlanceAgain: 3_000 }), run(ON, on)],
      { rates: { train: {}, eval: {} }, workers: 1, efficiency: 1 })!;
    expect(k.basis).toBe('training');
    expect(k.rows[0].warning).toMatch(/left GlanceReluGrad as with every kernel on/);
    const all = k.rows[1];
    expect(all.ratio).toEqual({ NormalNet: 0.5, AdvNet: 0.5, GlanceAgain: 0.5 });
    expect(all.saved).toBeCloseTo(0.5, 9);
    expect(all.warning).toBeUndefined();
  });
});

describe('kernel ablation report', () => {
  it('renders one table per backend: on rates, then each entry\'s ratios, preset wall on -> off and the share saved', () => {
    const on = { NormalNet: 60_000, AdvNet: 30_000, GlanceAgain: 6_000 };
    const lstm = { label: 'GlanceLstm + GlanceLstmGrad', disable: ['GlanceLstm', 'GlanceLstmGrad'] };
    const ablation = [run(ON, on), run(lstm, { ...on, GlanceAgain: 4_000 }), run(ON, on)];
    const md = renderMarkdown({
      mode: 'quick', rounds: 1, date: '2026-12-01T00:00:00Z', seconds: 60, load: [], pinning: '`taskset -c 0`', notes: [],
      machine: { cpu: 'x', features: [], cores: 2, memoryGB: 1, os: 'linux', node: 'v20', loadStart: [0, 0, 0] },
      single: [], pool: [], peers: [], ablation, summary: summarizeRun([], [], [], 2, ablation),
    });
    expect(md).toContain('## Kernels: what each fast kernel buys');
    expect(md).toContain('| none (all on), samples/s | 60,000 | 30,000 | 6,000 | - | - |');
    expect(md).toMatch(/\| GlanceLstm \+ GlanceLstmGrad \| 1\.00x \| 1\.00x \| 0\.67x \| \d+(\.\d)? min → \d+(\.\d)? min \| \d+\.\d% \|/);
    expect(md).toContain('shares are of the preset\'s training jobs alone');
  });
});
