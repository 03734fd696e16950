import { describe, expect, it } from 'vitest';
import { renderReport } from '../src/report/markdown.js';
import { GOLDEN_INPUT } from './report-golden-fixture.js';
import { result, seeds } from './report-fixtures.js';
import { outlierSeeds } from '../src/report/details.js';

/*
 * The whole report for a fixed results set, as a literal: any change to the
 * output shows up here as a diff. Numbers checked by hand, e.g. NormalNet clean
 * 96.9/97.5/97.1 -> mean 97.17, sd 0.31, CI +-4.303*0.31/sqrt(3) = 0.76; the
 * GlanceAgain seed 2 shards 492 + 492 = 984 -> 98.4. Training: NormalNet's
 * epoch-1 losses 0.5 and 0.3 -> 0.400 ± 0.141 (sd = 0.1 * sqrt(2)).
 * Verdicts: NormalNet clean's single-run interval 97.17 +- 4.303 * 0.306 * sqrt(4/3)
 * = +-1.52 -> 95.6-98.7 holds 97.1; the worst case of NormalNet at eps 0.3 is per seed
 * min(60, 20) and min(70, 30) of 1000 (prefix bits) -> 2.5.
 */
const GOLDEN = `# GlanceAgain reproduction

## Verdicts

Every claim of the paper (Tables I–III: MNIST, FGSM at eps 0.3, one run) against ours. A claim is reproduced when the paper's value lies inside our 95% prediction interval for a single run (mean ± t(0.975, n−1) · sd · √(1 + 1/n) over seeds) widened by 2 points on the test split (the paper measured on the training data; 0 on the training split), and not reproduced (our value higher or lower) when it lies outside; inconclusive with fewer than 3 seeds, or when the paper's value lies inside a prediction interval wider than ±10 points.

| Table | Model | Reading | Gradient | Paper | Ours: mean (95% CI) [n] | One run: 95% PI | Ours − paper | Verdict | Checks |
|---|---|---|---|---:|---:|---:|---:|---|---|
| I | NormalNet | mnist · test split | — | 97.1 | 97.2 (96.4–97.9) [3] | 95.6–98.7 | +0.1 | reproduced | — |
| I | AdvNet | mnist · test split | — | 97.3 | 97.3 (97.1–97.5) [3] | 96.8–97.8 | 0.0 | reproduced | — |
| I | GlanceAgain | mnist · test split | — | 98.2 | 98.1 (97.4–98.8) [3] | 96.8–99.4 | -0.1 | reproduced | — |
| II | NormalNet (white-box) | mnist · pixel eps · test split | float32 | 6.7 | 6.5 (5.3–7.7) [3] | 4.0–9.0 | -0.2 | reproduced | — |
| II | AdvNet | mnist · pixel eps · test split | float32 | 94.4 | 94.5 (93.3–95.7) [3] | 92.0–97.0 | +0.1 | reproduced | — |
| II | GlanceAgain | mnist · pixel eps · test split | float32 | 91.2 | 90.5 (89.3–91.7) [3] | 88.0–93.0 | -0.7 | reproduced | — |
| III | NormalNet | mnist · pixel eps · test split | float32 | 6.7 | 6.5 (5.3–7.7) [3] | 4.0–9.0 | -0.2 | reproduced | — |
| III | AdvNet | mnist · pixel eps · test split | float32 | 87.1 | 87.0 (84.5–89.5) [3] | 82.0–92.0 | -0.1 | reproduced | W1 |
| III | GlanceAgain | mnist · pixel eps · test split | float32 | 52.1 | 51.7 (47.9–55.5) [3] | 44.1–59.3 | -0.4 | reproduced | — |

- **mnist · pixel eps · test split, float32 gradient**: 9 of 9 claims reproduced (Table I NormalNet, Table I AdvNet, Table I GlanceAgain, Table II NormalNet (white-box), Table II AdvNet, Table II GlanceAgain, Table III NormalNet, Table III AdvNet, Table III GlanceAgain).

## Sanity checks

Checks of the evaluation itself (Carlini et al. 2019, "On Evaluating Adversarial Robustness"; AutoAttack's checks). A higher accuracy where a lower one is expected counts only beyond noise: above both the combined 95% CIs of the two means and 1.96 binomial standard errors of the difference on the evaluated images.

- **Warning W1** (noise-vs-attack): mnist · pixel eps · test split: AdvNet white-box fgsm leaves 87.0% at eps 0.3, above white-box noise with 80.0% (noise margin 3.5): the attack hurts less than random sign noise of the same eps: it is broken or its gradients are masked.

- accuracy does not rise with eps: 10 comparisons, passed
- an iterative attack (PGD) is at least as strong as one step (FGSM): 1 comparison, passed
- white-box is at least as strong as transfer on the same model: 2 comparisons, passed
- EOT is at least as strong as one draw on a randomised model: 1 comparison, passed
- the gradient-free attack (Square) is not stronger than the gradient attacks: not applicable (no such cells in this run)
- at a large eps (0.5 in pixels) the strongest white-box attack takes accuracy to chance: not applicable (no such cells in this run)
- random sign noise of the same eps hurts less than a white-box attack: 1 comparison, warnings W1
- white-box FGSM is not blunted by label leaking or gradient masking (accuracy rising with eps, or above a transfer attack's, while PGD finds far lower): 2 comparisons, passed

Cells: accuracy (%) as mean ± sample sd over seeds (Student-t 95% confidence interval of the mean, clipped to 0–100) [number of seeds]. Paper: the paper's single run (MNIST, measured on the training data, eps units not stated). Ours − paper: our mean minus the paper value.

## Table I: Accuracy of models on unperturbed data

Clean accuracy (threat clean, attack none).

### mnist · test split

| Model | Ours: mean ± sd (95% CI) [n] | Paper | Ours − paper |
|---|---:|---:|---:|
| NormalNet | 97.2 ± 0.3 (95% CI 96.4–97.9) [3] | 97.1 | +0.1 |
| AdvNet | 97.3 ± 0.1 (95% CI 97.1–97.5) [3] | 97.3 | 0.0 |
| GlanceAgain | 98.1 ± 0.3 (95% CI 97.4–98.8) [3] | 98.2 | -0.1 |

### fashion-mnist · test split

| Model | Ours: mean ± sd (95% CI) [n] | Paper | Ours − paper |
|---|---:|---:|---:|
| NormalNet | 85.0 ± — (95% CI —) [1] | — | — |

## Table II: Accuracy of models on adversarial samples crafted for NormalNet

FGSM transfer at eps 0.3: adversarial images crafted on the source model, evaluated on each model.

### mnist · pixel eps · test split · crafted on NormalNet

| Model | Ours: mean ± sd (95% CI) [n] | Paper | Ours − paper |
|---|---:|---:|---:|
| NormalNet (white-box) | 6.5 ± 0.5 (95% CI 5.3–7.7) [3] | 6.7 | -0.2 |
| AdvNet | 94.5 ± 0.5 (95% CI 93.3–95.7) [3] | 94.4 | +0.1 |
| GlanceAgain | 90.5 ± 0.5 (95% CI 89.3–91.7) [3] | 91.2 | -0.7 |

## Table III: Accuracy of models on their respective crafted adversarial samples

White-box FGSM at eps 0.3: adversarial images crafted on each model itself.

EOT-10 averages the input gradient over random transform draws (Athalye et al. 2018), the adaptive attack a randomised model calls for; the paper reports only the single-draw attack.

### mnist · pixel eps · test split

| Model | Ours: mean ± sd (95% CI) [n] | Paper | Ours − paper |
|---|---:|---:|---:|
| NormalNet | 6.5 ± 0.5 (95% CI 5.3–7.7) [3] | 6.7 | -0.2 |
| AdvNet | 87.0 ± 1.0 (95% CI 84.5–89.5) [3] | 87.1 | -0.1 |
| GlanceAgain | 51.7 ± 1.5 (95% CI 47.9–55.5) [3] | 52.1 | -0.4 |
| GlanceAgain (EOT-10) | 31.0 ± 1.0 (95% CI 28.5–33.5) [3] | — | — |

## GlanceAgain against NormalNet and AdvNet

Paired over the same seeds and test images. Difference: accuracy of GlanceAgain minus the other model (points), mean over seeds with its Student-t 95% CI. McNemar per seed: images only GlanceAgain gets right / only the other model gets right, and the two-sided p of "equally accurate" (exact binomial below 25 discordant images, else chi-square with continuity correction).

| Table | Reading | Gradient | Comparison | Difference: mean (95% CI) [n] | McNemar per seed |
|---|---|---|---|---:|---|
| I | mnist · test split | — | GlanceAgain − NormalNet | +0.9 (+0.8 to +1.1) [3] | seed 1: 9/0, p = 0.0039; seed 2: 17/8, p = 0.11; seed 3: 10/0, p = 0.0020 |
| I | mnist · test split | — | GlanceAgain − AdvNet | +0.8 (+0.3 to +1.3) [3] | seed 1: 8/0, p = 0.0078; seed 2: 18/8, p = 0.078; seed 3: 6/0, p = 0.031 |
| II | mnist · pixel eps · test split | float32 | GlanceAgain − NormalNet (white-box) | +84.0 (+84.0 to +84.0) [3] | seed 1: 840/0, p < 0.001; seed 2: 840/0, p < 0.001; seed 3: 840/0, p < 0.001 |
| II | mnist · pixel eps · test split | float32 | GlanceAgain − AdvNet | -4.0 (-5.2 to -2.8) [3] | seed 1: 0/40, p < 0.001; seed 2: 0/35, p < 0.001; seed 3: 0/45, p < 0.001 |
| III | mnist · pixel eps · test split | float32 | GlanceAgain − NormalNet | +45.2 (+42.6 to +47.8) [3] | seed 1: 440/0, p < 0.001; seed 2: 460/0, p < 0.001; seed 3: 455/0, p < 0.001 |
| III | mnist · pixel eps · test split | float32 | GlanceAgain − AdvNet | -35.3 (-39.1 to -31.5) [3] | seed 1: 0/370, p < 0.001; seed 2: 0/350, p < 0.001; seed 3: 0/340, p < 0.001 |

## Worst-case robust accuracy

An image counts only if the model classifies it correctly clean and under every attack evaluated on it at that eps (the ensemble; as AutoAttack reports), per seed from the per-example results, on the images every attack was run on. Strongest single attack: the lowest mean of one attack alone on the same images.

### mnist · pixel eps · test split

| Model | eps | Gradient | Ensemble | Images | Worst case: mean ± sd (95% CI) [n] | Strongest single attack |
|---|---:|---|---|---:|---:|---|
| NormalNet | 0.1 | float32 | white-box fgsm | 1000 | 41.0 ± 1.0 (95% CI 38.5–43.5) [3] | 41.0 (white-box fgsm) |
| NormalNet | 0.2 | float32 | white-box fgsm | 1000 | 15.5 ± 0.5 (95% CI 14.3–16.7) [3] | 15.5 (white-box fgsm) |
| NormalNet | 0.3 | float32 | white-box fgsm, white-box fgsm-targeted | 1000 | 2.5 ± 0.7 (95% CI 0.0–8.9) [2] | 2.5 (white-box fgsm-targeted) |
| AdvNet | 0.1 | float32 | white-box fgsm | 1000 | 95.0 ± 0.5 (95% CI 93.8–96.2) [3] | 95.0 (white-box fgsm) |
| AdvNet | 0.3 | float32 | transfer fgsm from NormalNet, white-box fgsm, white-box noise | 1000 | 80.0 ± 1.0 (95% CI 77.5–82.5) [3] | 80.0 (white-box noise) |
| GlanceAgain | 0.3 | float32 | transfer fgsm from NormalNet, white-box fgsm, white-box eot-fgsm, white-box pgd | 1000 | 11.0 ± 1.4 (95% CI 0.0–23.7) [2] | 11.0 (white-box pgd) |

### fashion-mnist · pixel eps · test split

| Model | eps | Gradient | Ensemble | Images | Worst case: mean ± sd (95% CI) [n] | Strongest single attack |
|---|---:|---|---|---:|---:|---|
| NormalNet | 0.1 | float32 | white-box fgsm | 1000 | 12.0 ± — (95% CI —) [1] | 12.0 (white-box fgsm) |

## Other attacks

Every result not in Tables I–III. Target hits: the share (%) of adversarial images classified as the attack's target label, mean ± sd over seeds (targeted attacks only).

### mnist · pixel eps · test split

| Model | Threat | Attack | Source | eps | Accuracy: mean ± sd (95% CI) [n] | Target hits |
|---|---|---|---|---:|---:|---:|
| NormalNet | white-box | fgsm | NormalNet | 0.1 | 41.0 ± 1.0 (95% CI 38.5–43.5) [3] | — |
| NormalNet | white-box | fgsm | NormalNet | 0.2 | 15.5 ± 0.5 (95% CI 14.3–16.7) [3] | — |
| AdvNet | white-box | fgsm | AdvNet | 0.1 | 95.0 ± 0.5 (95% CI 93.8–96.2) [3] | — |
| NormalNet | white-box | fgsm-targeted | NormalNet | 0.3 | 2.5 ± 0.7 (95% CI 0.0–8.9) [2] | 67.5 ± 3.5 |
| GlanceAgain | white-box | pgd | GlanceAgain | 0.3 | 11.0 ± 1.4 (95% CI 0.0–23.7) [2] | — |
| AdvNet | white-box | noise | AdvNet | 0.3 | 80.0 ± 1.0 (95% CI 77.5–82.5) [3] | — |

### fashion-mnist · pixel eps · test split

| Model | Threat | Attack | Source | eps | Accuracy: mean ± sd (95% CI) [n] | Target hits |
|---|---|---|---|---:|---:|---:|
| NormalNet | white-box | fgsm | NormalNet | 0.1 | 12.0 ± — (95% CI —) [1] | — |

## Epsilon sweep

Accuracy (%) by eps, mean ± sd over seeds, for every attack measured at more than one eps.

### mnist · pixel eps · test split

| eps | NormalNet · white-box fgsm | AdvNet · white-box fgsm |
|---:|---:|---:|
| 0.1 | 41.0 ± 1.0 | 95.0 ± 0.5 |
| 0.2 | 15.5 ± 0.5 | — |
| 0.3 | 6.5 ± 0.5 | 87.0 ± 1.0 |

![sweep](sweep.svg)

## Per-seed values

Accuracy (%) of every cell of Tables I–III for each seed; spread: the largest minus the smallest seed. In bold: a seed far from the others (from 4 seeds on: more than 1 point and more than 3 robust sd, 3 × 1.4826 × the median absolute deviation, from the median). The plot shows the same cells: our mean on its 95% CI, each seed as a ring, the paper as a diamond.

![Tables I–III, mean, 95% CI and each seed beside the paper](cells.svg)

| Table | Setting | Row | seed 1 | seed 2 | seed 3 | Spread |
|---|---|---|---:|---:|---:|---:|
| I | mnist · test split | NormalNet | 97.1 | 97.5 | 96.9 | 0.6 |
| I | mnist · test split | AdvNet | 97.2 | 97.4 | 97.3 | 0.2 |
| I | mnist · test split | GlanceAgain | 98.0 | 98.4 | 97.9 | 0.5 |
| I | fashion-mnist · test split | NormalNet | 85.0 |  |  |  |
| II | mnist · pixel eps · test split · crafted on NormalNet | NormalNet (white-box) | 6.0 | 7.0 | 6.5 | 1.0 |
| II | mnist · pixel eps · test split · crafted on NormalNet | AdvNet | 94.0 | 94.5 | 95.0 | 1.0 |
| II | mnist · pixel eps · test split · crafted on NormalNet | GlanceAgain | 90.0 | 91.0 | 90.5 | 1.0 |
| III | mnist · pixel eps · test split | NormalNet | 6.0 | 7.0 | 6.5 | 1.0 |
| III | mnist · pixel eps · test split | AdvNet | 87.0 | 88.0 | 86.0 | 2.0 |
| III | mnist · pixel eps · test split | GlanceAgain | 50.0 | 53.0 | 52.0 | 3.0 |
| III | mnist · pixel eps · test split | GlanceAgain (EOT-10) | 30.0 | 32.0 | 31.0 | 2.0 |

## Training curves

Loss and accuracy on the training batches as they were trained (AdvNet: on its clean batches), mean ± sd over seeds.

| Model | Seeds | Epochs | Loss, epoch 1 | Loss, last epoch | Train acc. (%), epoch 1 | Train acc. (%), last epoch |
|---|---:|---:|---:|---:|---:|---:|
| NormalNet | 2 | 2 | 0.400 ± 0.141 | 0.150 ± 0.071 | 91.0 ± 1.4 | 97.0 ± 1.4 |
| AdvNet | 1 | 2 | 0.900 ± — | 0.600 ± — | 70.0 ± — | 80.0 ± — |

![training curves](training.svg)

## Adversarial digits

The first images of the evaluation split, clean and under white-box FGSM on each model (first seed) at up to three of the run's eps in each unit; under each image the prediction on the clean and on the attacked image, a wrong one marked ✗. Made by \`glance gallery\`.

![clean and adversarial digits](gallery.svg)

## Protocol

| Setting | Value |
|---|---|
| dataset | mnist, fashion-mnist |
| eps units | pixel |
| attacks | fgsm \\| eot-fgsm \\| pgd |
| backend | node (TensorFlow 2.21.0, tfjs 4.22.0) |

## How to reproduce

\`\`\`sh
npx glance run --preset paper --seeds 3
\`\`\`

## Reference

Paper reproduced: Anudeep Das. "GlanceAgain: Adversarial Defense using Recurrent Layers". David R. Cheriton School of Computer Science, University of Waterloo, Waterloo, Ontario, Canada (a38das@uwaterloo.ca). Undated; its latest reference was accessed in August 2022.

To cite this software, see CITATION.cff in the glance-bench repository.
`;

describe('renderReport', () => {
  it('matches the golden report', () => {
    expect(renderReport(GOLDEN_INPUT)).toBe(GOLDEN);
  });

  it('is deterministic: input order does not matter', () => {
    const shuffled = { ...GOLDEN_INPUT, results: [...GOLDEN_INPUT.results].reverse() };
    expect(renderReport(shuffled)).toBe(GOLDEN);
  });

  it('opens with the partial warning only when partial, and lists what is missing', () => {
    const full = renderReport({ ...GOLDEN_INPUT, partial: undefined });
    expect(full).not.toMatch(/partial/i);
    const missing = Array.from({ length: 35 }, (_, i) => `eval job ${i}`);
    const partial = renderReport({ ...GOLDEN_INPUT, partial: { done: 5, total: 40, missing } });
    const warning = partial.indexOf('**Warning: partial results.**');
    expect(warning).toBeGreaterThan(0);
    expect(warning).toBeLessThan(partial.indexOf('## Protocol'));
    expect(partial).toContain('5 of 40 jobs are done');
    expect(partial).toContain('> - eval job 29\n> - … and 5 more');
    expect(partial).not.toContain('eval job 30');
  });

  it('says why a paper table is empty when nothing is at eps 0.3, with no placeholder rows', () => {
    const out = renderReport({
      title: 't', protocol: [], command: 'x',
      results: [result({ threat: 'white-box', attack: 'fgsm', source: 'NormalNet', eps: 0.25, correct: 100 })],
    });
    expect(out).toContain("None of this run's results fit this table: no results at eps 0.3 (measured at eps 0.25).");
    expect(out).not.toMatch(/\| (NormalNet|AdvNet|GlanceAgain)[^|]*\| no results/);
    expect(out).not.toContain('## Epsilon sweep');
  });

  it('keeps a row whose model has other results in the setting, and drops models with none', () => {
    const out = renderReport({
      title: 't', protocol: [], command: 'x',
      results: [
        result({ model: 'NormalNet', correct: 970 }),
        result({ model: 'AdvNet', correct: 970 }),
        result({ model: 'NormalNet', threat: 'white-box', attack: 'fgsm', source: 'NormalNet', eps: 0.3, correct: 60 }),
      ],
    });
    expect(out).toContain('| AdvNet | no results at eps 0.3 | 87.1 | — |');
    expect(out).not.toMatch(/\| GlanceAgain[^|]*\| no/);
  });

  it('with no results still renders every section header', () => {
    const out = renderReport({ title: 't', protocol: [['a|b', 'c']], command: 'glance run --x `y`', results: [] });
    expect(out).toContain('| a\\|b | c |');
    expect(out).toContain('## Table III');
    expect(out).toContain('No results yet.');
    expect(out).toContain('```sh\nglance run --x `y`\n```');
  });

  it('marks a seed far from the others in the per-seed table', () => {
    // Five seeds 97.0, 97.2, 97.1, 96.9, 90.0: median 97.0, MAD 0.1; 90.0 is 7 points off, far above 3 * 1.4826 * 0.1.
    const out = renderReport({ title: 't', protocol: [], command: 'x', results: seeds({}, [970, 972, 971, 969, 900]) });
    expect(out).toContain('| I | mnist · test split | NormalNet | 97.0 | 97.2 | 97.1 | 96.9 | **90.0** | 7.2 |');
    expect(outlierSeeds([{ seed: 1, accuracy: 50 }, { seed: 2, accuracy: 51 }, { seed: 3, accuracy: 90 }])).toEqual(new Set());
    // Within 1 point: never an outlier, however tight the others.
    expect(outlierSeeds([1, 2, 3, 4].map((seed) => ({ seed, accuracy: seed === 4 ? 50.9 : 50 })))).toEqual(new Set());
    expect(outlierSeeds([1, 2, 3, 4].map((seed) => ({ seed, accuracy: seed === 4 ? 51.1 : 50 })))).toEqual(new Set([4]));
  });

  it("ends every report with the paper's full reference; empty sections are left out", () => {
    const out = renderReport({ title: 't', protocol: [], command: 'x', results: [], training: [] });
    expect(out.trimEnd().split('\n').slice(-3)[0]).toMatch(/^Paper reproduced: Anudeep Das\. "GlanceAgain: Adversarial Defense using Recurrent Layers"/);
    expect(out).toContain('CITATION.cff');
    for (const h of ['## Per-seed values', '## Training curves', '## Adversarial digits', '![']) expect(out).not.toContain(h);
  });
});
