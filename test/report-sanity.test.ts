import { describe, expect, it } from 'vitest';
import type { EvalResult } from '../src/experiments/types.js';
import { aggregate } from '../src/report/aggregate.js';
import {
  checkChance, checkEot, checkEpsMonotone, checkFgsmMasking, checkGradientFree, checkIterative, checkNoise,
  checkWhiteBoxVsTransfer, noiseMargin, runChecks,
} from '../src/report/sanity.js';
import { seeds } from './report-fixtures.js';

const wb = (model: EvalResult['model'], attack: EvalResult['attack'], eps: number) =>
  ({ model, threat: 'white-box', attack, source: model, eps }) as const;
const groups = (...rs: EvalResult[][]) => aggregate(rs.flat());
const clean = (model: EvalResult['model']) => seeds({ model }, [980, 981, 979]);

describe('noise margin', () => {
  it('is the larger of the combined CIs and 1.96 binomial standard errors', () => {
    // Identical seeds: CIs 0; p = 0.5 on 3000 images each: 1.96 * sqrt(2 * 0.25 / 3000) = 2.530 points.
    const [a, b] = groups(seeds(wb('NormalNet', 'fgsm', 0.1), [500, 500, 500]), seeds(wb('NormalNet', 'fgsm', 0.2), [500, 500, 500]));
    expect(noiseMargin(a, b)).toBeCloseTo(100 * 1.96 * Math.sqrt(0.5 / 3000), 10);
    // Seeds 40, 50, 60 %: CI half-width 4.303 * 10 / sqrt(3) = 24.84; combined with a CI of 0: 24.84.
    const [c, d] = groups(seeds(wb('NormalNet', 'fgsm', 0.1), [400, 500, 600]), seeds(wb('NormalNet', 'fgsm', 0.2), [500, 500, 500]));
    expect(noiseMargin(c, d)).toBeCloseTo(24.84, 2);
  });
});

describe('sanity checks', () => {
  it('eps-monotone: fires on a rise beyond noise, quiet on a fall or a rise within noise', () => {
    const rising = groups(clean('AdvNet'), seeds(wb('AdvNet', 'fgsm', 0.1), [440, 450, 430]), seeds(wb('AdvNet', 'fgsm', 0.25), [720, 730, 710]));
    const out = checkEpsMonotone(rising);
    expect(out.warnings).toHaveLength(1);
    expect(out.warnings[0].message).toContain('accuracy rises from 44.0% at eps 0.1 to 72.0% at eps 0.25');
    const falling = groups(clean('AdvNet'), seeds(wb('AdvNet', 'fgsm', 0.1), [720, 730, 710]), seeds(wb('AdvNet', 'fgsm', 0.25), [440, 450, 430]));
    expect(checkEpsMonotone(falling)).toMatchObject({ compared: 1, warnings: [] });
    // 44.0 -> 44.5: below the binomial margin.
    const flat = groups(seeds(wb('AdvNet', 'fgsm', 0.1), [440, 440, 440]), seeds(wb('AdvNet', 'fgsm', 0.25), [445, 445, 445]));
    expect(checkEpsMonotone(flat).warnings).toEqual([]);
  });

  it('eps-monotone: an attack above clean accuracy fires', () => {
    const out = checkEpsMonotone(groups(seeds({ model: 'NormalNet' }, [500, 500, 500]), seeds(wb('NormalNet', 'fgsm', 0.1), [900, 900, 900])));
    expect(out.warnings[0].message).toContain('from 50.0% at eps 0 (clean) to 90.0% at eps 0.1');
  });

  it('iterative-vs-one-step', () => {
    const bad = groups(seeds(wb('NormalNet', 'fgsm', 0.3), [100, 100, 100]), seeds(wb('NormalNet', 'pgd', 0.3), [300, 300, 300]));
    // Margin: 1.96 * sqrt(0.1 * 0.9 / 3000 + 0.3 * 0.7 / 3000) = 1.96 points.
    expect(checkIterative(bad).warnings[0].message).toContain('NormalNet white-box pgd leaves 30.0% at eps 0.3, above white-box fgsm with 10.0% (noise margin 2.0)');
    const good = groups(seeds(wb('NormalNet', 'fgsm', 0.3), [100, 100, 100]), seeds(wb('NormalNet', 'pgd', 0.3), [0, 0, 0]));
    expect(checkIterative(good)).toMatchObject({ compared: 1, warnings: [] });
  });

  it('white-box-vs-transfer', () => {
    const transfer = seeds({ model: 'AdvNet', threat: 'transfer', attack: 'fgsm', source: 'NormalNet', eps: 0.3 }, [600, 600, 600]);
    expect(checkWhiteBoxVsTransfer(groups(transfer, seeds(wb('AdvNet', 'fgsm', 0.3), [800, 800, 800]))).warnings).toHaveLength(1);
    expect(checkWhiteBoxVsTransfer(groups(transfer, seeds(wb('AdvNet', 'fgsm', 0.3), [300, 300, 300])))).toMatchObject({ compared: 1, warnings: [] });
    // The same failure over a sweep is one warning, its example at the paper's eps.
    const sweep = [0.1, 0.2, 0.3].flatMap((eps) => [
      ...seeds({ model: 'GlanceAgain', threat: 'transfer', attack: 'fgsm', source: 'NormalNet', eps }, [10, 10, 10]),
      ...seeds(wb('GlanceAgain', 'fgsm', eps), [500, 500, 500]),
    ]);
    const out = checkWhiteBoxVsTransfer(groups(sweep));
    expect(out.compared).toBe(3);
    expect(out.warnings).toHaveLength(1);
    expect(out.warnings[0].cells).toHaveLength(6);
    expect(out.warnings[0].message).toContain('GlanceAgain white-box fgsm leaves 50.0% at eps 0.3, above transfer fgsm from NormalNet with 1.0%');
    expect(out.warnings[0].message).toContain('the same at 3 eps in all (0.1–0.3)');
  });

  it('eot-vs-one-draw, on the randomised model only', () => {
    const one = seeds(wb('GlanceAgain', 'fgsm', 0.3), [500, 500, 500]);
    expect(checkEot(groups(one, seeds(wb('GlanceAgain', 'eot-fgsm', 0.3), [600, 600, 600]))).warnings).toHaveLength(1);
    expect(checkEot(groups(one, seeds(wb('GlanceAgain', 'eot-fgsm', 0.3), [300, 300, 300])))).toMatchObject({ compared: 1, warnings: [] });
    const deterministic = groups(seeds(wb('NormalNet', 'fgsm', 0.3), [50, 50, 50]), seeds(wb('NormalNet', 'eot-fgsm', 0.3), [90, 90, 90]));
    expect(checkEot(deterministic).compared).toBe(0);
  });

  it('gradient-free-vs-gradient: Square below the strongest gradient attack means masking', () => {
    const gradient = [...seeds(wb('AdvNet', 'fgsm', 0.3), [700, 700, 700]), ...seeds(wb('AdvNet', 'pgd', 0.3), [400, 400, 400])];
    const masked = checkGradientFree(groups(gradient, seeds(wb('AdvNet', 'square', 0.3), [200, 200, 200])));
    expect(masked.warnings[0].message).toContain('square at eps 0.3: 20.0% is below the strongest gradient attack, AdvNet white-box pgd at eps 0.3: 40.0%');
    // Between FGSM and PGD: Square beats the weak FGSM, not the strongest gradient attack.
    expect(checkGradientFree(groups(gradient, seeds(wb('AdvNet', 'square', 0.3), [500, 500, 500])))).toMatchObject({ compared: 1, warnings: [] });
  });

  it('chance-at-large-eps: only where the run has eps 0.5 in pixels', () => {
    expect(checkChance(groups(seeds(wb('AdvNet', 'pgd', 0.3), [500, 500, 500]))).compared).toBe(0);
    const high = checkChance(groups(seeds(wb('AdvNet', 'fgsm', 0.5), [600, 600, 600]), seeds(wb('AdvNet', 'pgd', 0.5), [300, 300, 300])));
    expect(high.warnings[0].message).toContain('leaves 30.0% (pgd), above 20%');
    expect(checkChance(groups(seeds(wb('AdvNet', 'fgsm', 0.5), [600, 600, 600]), seeds(wb('AdvNet', 'pgd', 0.5), [50, 50, 50])))).toMatchObject({ compared: 1, warnings: [] });
    // Normalized eps 2 is 0.616 in pixels; eps 1 (0.308) is not large.
    const normalized = (eps: number) => seeds({ ...wb('AdvNet', 'pgd', eps), epsUnits: 'normalized' }, [900, 900, 900]);
    expect(checkChance(groups(normalized(2))).warnings).toHaveLength(1);
    expect(checkChance(groups(normalized(1))).compared).toBe(0);
  });

  it('noise-vs-attack', () => {
    const noise = seeds(wb('NormalNet', 'noise', 0.3), [800, 800, 800]);
    expect(checkNoise(groups(noise, seeds(wb('NormalNet', 'fgsm', 0.3), [900, 900, 900]))).warnings).toHaveLength(1);
    expect(checkNoise(groups(noise, seeds(wb('NormalNet', 'fgsm', 0.3), [70, 70, 70])))).toMatchObject({ compared: 1, warnings: [] });
  });

  it("names AdvNet's FGSM rising with eps while PGD takes it to 0", () => {
    const fgsm = [...seeds(wb('AdvNet', 'fgsm', 0.05), [440, 445, 435]), ...seeds(wb('AdvNet', 'fgsm', 0.25), [720, 725, 715])];
    const masked = checkFgsmMasking(groups(clean('AdvNet'), fgsm, seeds(wb('AdvNet', 'pgd', 0.25), [0, 1, 0])));
    expect(masked.warnings).toHaveLength(1);
    expect(masked.warnings[0].message).toContain(
      "AdvNet's white-box FGSM accuracy rises with eps (44.0% at eps 0.05 to 72.0% at eps 0.25) while PGD takes it to 0.0% at eps 0.25: label leaking or gradient masking");
    const honest = [...seeds(wb('AdvNet', 'fgsm', 0.05), [720, 725, 715]), ...seeds(wb('AdvNet', 'fgsm', 0.25), [440, 445, 435])];
    expect(checkFgsmMasking(groups(clean('AdvNet'), honest, seeds(wb('AdvNet', 'pgd', 0.25), [0, 1, 0])))).toMatchObject({ compared: 1, warnings: [] });
  });

  it('names the single-eps sign: white-box FGSM above transfer while PGD takes the model to 0', () => {
    const transfer = seeds({ model: 'AdvNet', threat: 'transfer', attack: 'fgsm', source: 'NormalNet', eps: 0.3 }, [630, 640, 620]);
    const pgd = seeds(wb('AdvNet', 'pgd', 0.3), [1, 0, 2]);
    const masked = checkFgsmMasking(groups(transfer, pgd, seeds(wb('AdvNet', 'fgsm', 0.3), [730, 720, 740])));
    expect(masked.compared).toBe(1);
    expect(masked.warnings[0].message).toContain(
      "AdvNet's white-box FGSM leaves 73.0% at eps 0.3, more than FGSM crafted on NormalNet (63.0%), while PGD takes it to 0.1%");
    expect(masked.warnings[0].message).toContain('label leaking or gradient masking');
    expect(checkFgsmMasking(groups(transfer, pgd, seeds(wb('AdvNet', 'fgsm', 0.3), [500, 510, 490])))).toMatchObject({ compared: 1, warnings: [] });
  });

  it('runs every check, quiet on a consistent evaluation', () => {
    const ok = groups(
      clean('GlanceAgain'),
      seeds({ model: 'GlanceAgain', threat: 'transfer', attack: 'fgsm', source: 'NormalNet', eps: 0.3 }, [600, 600, 600]),
      seeds(wb('GlanceAgain', 'noise', 0.3), [950, 950, 950]),
      seeds(wb('GlanceAgain', 'fgsm', 0.3), [500, 500, 500]),
      seeds(wb('GlanceAgain', 'eot-fgsm', 0.3), [300, 300, 300]),
      seeds(wb('GlanceAgain', 'pgd', 0.3), [100, 100, 100]),
      seeds(wb('GlanceAgain', 'eot-pgd', 0.3), [20, 20, 20]),
      seeds(wb('GlanceAgain', 'square', 0.3), [400, 400, 400]),
      seeds(wb('GlanceAgain', 'pgd', 0.5), [0, 0, 0]),
    );
    const outcomes = runChecks(ok);
    expect(outcomes.map((o) => o.check)).toEqual([
      'eps-monotone', 'iterative-vs-one-step', 'white-box-vs-transfer', 'eot-vs-one-draw',
      'gradient-free-vs-gradient', 'chance-at-large-eps', 'noise-vs-attack', 'fgsm-masking',
    ]);
    expect(outcomes.flatMap((o) => o.warnings)).toEqual([]);
    expect(outcomes.filter((o) => o.check !== 'fgsm-masking').every((o) => o.compared > 0)).toBe(true);
  });
});
