import { describe, expect, it } from 'vitest';
import { predictionHalfWidth } from '../src/report/stats.js';
import { buildSummary } from '../src/report/summary.js';
import { judge, MAX_PREDICTION_HALF_WIDTH, renderVerdicts, verdictBlockers } from '../src/report/verdicts.js';
import { seeds } from './report-fixtures.js';
import type { EvalResult } from '../src/experiments/types.js';

/*
 * Hand-computed: accuracies 90, 91, 92 -> mean 91, sd 1, t(0.975, 2) = 4.302653,
 * prediction half-width 4.302653 * 1 * sqrt(1 + 1/3) = 4.96828, 95% CI half-width
 * 4.302653 / sqrt(3) = 2.48414. On the test split the paper's value may lie up
 * to 4.968 + 2 = 6.968 from 91: in [84.03, 97.97].
 */
describe('prediction interval and verdict rule', () => {
  it('prediction half-width is t sd sqrt(1 + 1/n)', () => {
    expect(predictionHalfWidth([90, 91, 92])).toBeCloseTo(4.96828, 4);
    expect(predictionHalfWidth([5])).toBeNaN();
  });

  it('reproduced inside the widened interval, higher or lower outside it', () => {
    const acc = [90, 91, 92];
    expect(judge(96, acc, 'test').verdict).toBe('reproduced');
    expect(judge(97.9, acc, 'test').verdict).toBe('reproduced');
    expect(judge(98.1, acc, 'test').verdict).toBe('not reproduced (lower)');
    expect(judge(84.1, acc, 'test').verdict).toBe('reproduced');
    expect(judge(83.9, acc, 'test').verdict).toBe('not reproduced (higher)');
    // The training split adds no tolerance: 96 > 91 + 4.968.
    expect(judge(96, acc, 'train').verdict).toBe('not reproduced (lower)');
    expect(judge(95.9, acc, 'train').verdict).toBe('reproduced');
  });

  it('inconclusive with fewer than 3 seeds or inside a too wide interval; blocked runs give none', () => {
    expect(judge(91, [90, 92], 'test')).toEqual({ verdict: 'inconclusive', reason: '2 seeds; a verdict needs 3' });
    // sd 20: half-width 4.303 * 20 * 1.155 = 99.4 > 10.
    const wide = judge(70, [50, 70, 90], 'test');
    expect(wide.verdict).toBe('inconclusive');
    expect(wide.reason).toContain(`wider than ±${MAX_PREDICTION_HALF_WIDTH}`);
    // 60, 63, 66: sd 3, half-width 4.303 * 3 * 1.155 = 14.9 > 10. The paper's 70 lies inside: no evidence;
    // its 90 lies beyond 63 + 14.9 + 2 = 79.9 even so: not reproduced.
    expect(judge(70, [60, 63, 66], 'test').verdict).toBe('inconclusive');
    expect(judge(90, [60, 63, 66], 'test').verdict).toBe('not reproduced (lower)');
    expect(judge(91, [90, 91, 92], 'test', true).verdict).toBe('no verdict');
    expect(judge(91, [], 'test').verdict).toBe('no result');
  });

  it('names what blocks verdicts', () => {
    expect(verdictBlockers({ preset: 'paper' })).toEqual([]);
    expect(verdictBlockers({ preset: 'smoke', evalLimit: 1000, trainLimit: 2000, partial: { done: 3, total: 4 } })).toEqual([
      'smoke preset (one epoch on a slice)', 'partial run (3 of 4 jobs)',
      'evaluated on the first 1000 images only', 'trained on the first 2000 images only',
    ]);
  });
});

/** A paper-shaped run: clean, transfer and white-box FGSM at 0.3 over 3 seeds of 1000 images. */
function paperRun(gradient?: 'stable' | 'float32', glanceTransfer = [5, 6, 4]): EvalResult[] {
  const g = gradient ? { gradient } : {};
  const wb = (model: EvalResult['model']) => ({ model, threat: 'white-box', attack: 'fgsm', source: model, eps: 0.3, ...g }) as const;
  return [
    ...seeds({ model: 'NormalNet' }, [971, 972, 970]),
    ...seeds({ model: 'AdvNet' }, [973, 974, 972]),
    ...seeds({ model: 'GlanceAgain' }, [982, 981, 983]),
    ...seeds({ model: 'AdvNet', threat: 'transfer', attack: 'fgsm', source: 'NormalNet', eps: 0.3, ...g }, [944, 945, 943]),
    ...seeds({ model: 'GlanceAgain', threat: 'transfer', attack: 'fgsm', source: 'NormalNet', eps: 0.3, ...g }, glanceTransfer),
    ...seeds(wb('NormalNet'), [67, 66, 68]),
    ...seeds(wb('AdvNet'), [871, 870, 872]),
    ...seeds(wb('GlanceAgain'), [521, 520, 522]),
  ];
}

describe('verdicts of a run', () => {
  it('judges every Table I-III cell and says which claims fail', () => {
    const s = buildSummary(paperRun('stable'), { preset: 'paper' });
    expect(s.verdicts).toHaveLength(9);
    const glance = s.verdicts.find((v) => v.table === 'II' && v.model === 'GlanceAgain')!;
    expect(glance.mean).toBeCloseTo(0.5, 10);
    expect(glance.verdict).toBe('not reproduced (lower)');
    expect(glance.gradient).toBe('stable');
    expect(s.verdicts.filter((v) => v.verdict === 'reproduced')).toHaveLength(8);
    const md = renderVerdicts(s.verdicts, s.blockers, () => []).join('\n');
    expect(md).toContain('| II | GlanceAgain | mnist · pixel eps · test split | stable | 91.2 | 0.5 (0.3–0.7) [3] |');
    expect(md).toContain("8 of 9 claims reproduced");
    expect(md).toContain("Table II GlanceAgain: ours 0.5% (95% CI 0.3–0.7) against the paper's 91.2%, lower");
  });

  it('shows both gradients where a run has both, Table I once', () => {
    const both = [...paperRun('stable'), ...paperRun('float32', [900, 910, 920]).filter((r) => r.attack !== 'none')];
    const s = buildSummary(both, { preset: 'paper' });
    const ii = s.verdicts.filter((v) => v.table === 'II' && v.model === 'GlanceAgain');
    expect(ii.map((v) => [v.gradient, v.verdict])).toEqual([['stable', 'not reproduced (lower)'], ['float32', 'reproduced']]);
    // Only Table II GlanceAgain differs: the other five cells are shown once for both gradients.
    expect(s.verdicts).toHaveLength(3 + 5 + 2);
    expect(s.verdicts.find((v) => v.table === 'III' && v.model === 'AdvNet')).toMatchObject({ gradient: 'stable', sameAs: ['float32'] });
    const md = renderVerdicts(s.verdicts, s.blockers, () => []).join('\n');
    expect(md).toContain('| III | AdvNet | mnist · pixel eps · test split | stable = float32 | 87.1 |');
    expect(md).toContain('- **mnist · pixel eps · test split, stable gradient**: 8 of 9 claims reproduced');
    expect(md).toContain('- **mnist · pixel eps · test split, float32 gradient**: 9 of 9 claims reproduced');
  });

  it('one row and one sentence for gradients that give the same numbers', () => {
    const both = [...paperRun('stable'), ...paperRun('float32').filter((r) => r.attack !== 'none')];
    const s = buildSummary(both, { preset: 'paper' });
    expect(s.verdicts).toHaveLength(9);
    const md = renderVerdicts(s.verdicts, s.blockers, () => []).join('\n');
    expect(md).toContain('- **mnist · pixel eps · test split, stable = float32 gradient**: 8 of 9 claims reproduced');
    expect(s.checks.every((c) => c.sameAs?.[0] === 'float32')).toBe(true);
  });

  it('a smoke run gives numbers and no verdict', () => {
    const s = buildSummary(paperRun('stable'), { preset: 'smoke', evalLimit: 1000 });
    expect(s.verdicts.every((v) => v.verdict === 'no verdict')).toBe(true);
    const md = renderVerdicts(s.verdicts, s.blockers, () => []).join('\n');
    expect(md).toContain('**No verdicts: this run cannot support them.** Smoke preset');
    expect(md).not.toContain('claims reproduced');
  });
});
