/**
 * The attack options from flag to job: --attack-gradient, --pgd-restarts,
 * --pgd-loss, --square-queries and --attack-limit are validated with an error
 * naming the flag, shown in --help, and become grid cells: one job per gradient
 * mode of a gradient attack (its id carries the mode), 'noise' and 'square' under
 * the white-box threat only, and a limited attack on the first n images.
 */
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { addConfigOptions, buildConfig } from '../src/cli/experiment-options.js';
import { GlanceError } from '../src/errors.js';
import { buildJobs, type EvalJob } from '../src/experiments/grid.js';
import { PRESETS } from '../src/experiments/presets.js';
import { validateConfig } from '../src/experiments/validate.js';

const badOption = (fn: () => unknown, pattern: RegExp) => {
  expect(fn).toThrow(GlanceError);
  expect(fn).toThrow(pattern);
};

describe('attack options', () => {
  it('parse into the config, with defaults that keep a config of an older glance valid', () => {
    const c = buildConfig({
      preset: 'smoke',
      attacks: 'fgsm,pgd,square',
      attackGradient: 'float32,stable',
      pgdRestarts: '3',
      pgdLoss: 'dlr',
      squareQueries: '50',
      attackLimit: 'square=100,pgd=200',
    });
    expect(c.attackGradients).toEqual(['float32', 'stable']);
    expect(c.pgd).toMatchObject({ restarts: 3, loss: 'dlr' });
    expect(c.square).toEqual({ queries: 50 });
    expect(c.attackLimits).toEqual({ square: 100, pgd: 200 });
    const smoke = buildConfig({ preset: 'smoke' });
    expect(smoke.attackGradients).toEqual(['stable']);
    expect(smoke.pgd).toMatchObject({ restarts: 1, loss: 'ce' });
    // --attack-limit replaces the preset's limits (so a limit can be lifted), it does not add to them.
    expect(PRESETS.paper.attackLimits.square).toBeDefined();
    expect(buildConfig({ preset: 'paper', attackLimit: 'pgd=50' }).attackLimits).toEqual({ pgd: 50 });
    const { square: _s, attackGradients: _g, attackLimits: _l, ...older } = PRESETS.smoke;
    const fromOlder = validateConfig({ ...older, pgd: { steps: 40, randomStart: true } });
    expect(fromOlder).toMatchObject({ square: { queries: 1000 }, attackLimits: {}, pgd: { restarts: 1, loss: 'ce' } });
    // Its gradient attacks were float32 and its job ids name no mode: it stays without attackGradients.
    expect(fromOlder.attackGradients).toBeUndefined();
    const ids = buildJobs({ ...fromOlder, attacks: ['fgsm'], epsUnits: ['pixel'] }, 10000).filter((j): j is EvalJob => j.kind === 'eval' && j.attack === 'fgsm');
    expect(ids.every((j) => j.gradient === undefined && !/stable|float32/.test(j.id))).toBe(true);
  });

  it('refuse bad values with the flag, what was expected and what was found', () => {
    badOption(() => buildConfig({ preset: 'smoke', attackGradient: 'float64' }), /attack-gradient: expected one of stable, float32, got "float64"/);
    badOption(() => buildConfig({ preset: 'smoke', pgdLoss: 'hinge' }), /pgd-loss: expected one of ce, cw, dlr, got "hinge"/);
    badOption(() => buildConfig({ preset: 'smoke', pgdRestarts: '0' }), /pgd-restarts: expected a positive integer, got 0/);
    badOption(() => buildConfig({ preset: 'smoke', squareQueries: '1.5' }), /square-queries: expected a positive integer, got 1.5/);
    badOption(() => buildConfig({ preset: 'smoke', attackLimit: 'square' }), /--attack-limit: expected attack=n pairs/);
    badOption(() => buildConfig({ preset: 'smoke', attackLimit: 'square=0' }), /attack-limit square: expected a positive integer, got 0/);
    badOption(() => buildConfig({ preset: 'smoke', attackLimit: 'none=10' }), /attack-limit: expected one of fgsm, .*square, got "none"/);
    badOption(() => buildConfig({ preset: 'smoke', attacks: 'fgsm,square', threats: 'transfer' }), /threats: expected white-box among them: square attack the model itself/);
  });

  it('are listed in --help', () => {
    const help = addConfigOptions(new Command('reproduce'), 'paper').helpInformation();
    for (const flag of ['--attack-gradient', '--pgd-restarts', '--pgd-loss', '--square-queries', '--attack-limit']) expect(help).toContain(flag);
    expect(help).toMatch(/noise,square/);
  });
});

describe('attack cells of the grid', () => {
  const config = {
    ...PRESETS.smoke,
    models: ['NormalNet' as const],
    seeds: [1],
    epsUnits: ['pixel' as const],
    eval: { ...PRESETS.smoke.eval, limit: 1000, shards: 2 },
    attacks: ['fgsm' as const, 'pgd' as const, 'noise' as const, 'square' as const],
    attackGradients: ['stable' as const, 'float32' as const],
    attackLimits: { square: 300 },
  };
  const evals = () => buildJobs(config, 10000).filter((j): j is EvalJob => j.kind === 'eval');

  it('one job per gradient mode of a gradient attack, the mode in its id; none for noise, square or clean', () => {
    const jobs = evals();
    const fgsm = jobs.filter((j) => j.attack === 'fgsm' && j.threat === 'white-box' && j.start === 0);
    expect(fgsm.map((j) => j.gradient)).toEqual(['stable', 'float32']);
    expect(fgsm.map((j) => j.id)).toEqual([
      expect.stringMatching(/\/white-box\/fgsm\/NormalNet\/pixel\/stable\/test0-500$/),
      expect.stringMatching(/\/white-box\/fgsm\/NormalNet\/pixel\/float32\/test0-500$/),
    ]);
    for (const j of jobs.filter((j) => ['none', 'noise', 'square'].includes(j.attack))) {
      expect(j.gradient).toBeUndefined();
      expect(j.id).not.toMatch(/stable|float32/);
    }
    expect(new Set(jobs.map((j) => j.id)).size).toBe(jobs.length);
  });

  it('noise and square run white-box only; a limited attack covers the first n images in as many shards', () => {
    const jobs = evals();
    for (const attack of ['noise', 'square']) expect(new Set(jobs.filter((j) => j.attack === attack).map((j) => j.threat))).toEqual(new Set(['white-box']));
    expect(jobs.filter((j) => j.attack === 'square').map((j) => [j.start, j.end])).toEqual([[0, 150], [150, 300]]);
    expect(jobs.filter((j) => j.attack === 'noise').map((j) => [j.start, j.end])).toEqual([[0, 500], [500, 1000]]);
    // A limit above the evaluated slice changes nothing.
    const wide = buildJobs({ ...config, attackLimits: { square: 5000 } }, 10000).filter((j): j is EvalJob => j.kind === 'eval' && j.attack === 'square');
    expect(wide.map((j) => [j.start, j.end])).toEqual([[0, 500], [500, 1000]]);
  });
});
