import { describe, expect, it } from 'vitest';
import { renderReport } from '../src/report/markdown.js';
import { GOLDEN_INPUT } from './report-golden-fixture.js';
import { result } from './report-fixtures.js';

/*
 * The whole report for a fixed results set, as a literal: any change to the
 * output shows up here as a diff. Numbers checked by hand, e.g. NormalNet clean
 * 96.9/97.5/97.1 -> mean 97.17, sd 0.31, CI +-4.303*0.31/sqrt(3) = 0.76; the
 * GlanceAgain seed 2 shards 492 + 492 = 984 -> 98.4. Training: NormalNet's
 * epoch-1 losses 0.5 and 0.3 -> 0.400 ± 0.141 (sd = 0.1 * sqrt(2)).
 */
const GOLDEN = `# GlanceAgain reproduction

> **Warning: partial results.** 20 of 22 jobs are done; every number below covers only the finished jobs and will change when the run completes.
>
> Missing (2):
>
> - eval AdvNet seed 3 white-box pgd eps 0.3
> - eval GlanceAgain seed 3 white-box pgd eps 0.3

## Protocol

| Setting | Value |
|---|---|
| dataset | mnist, fashion-mnist |
| eps units | pixel |
| attacks | fgsm \\| eot-fgsm \\| pgd |
| backend | node (TensorFlow 2.21.0, tfjs 4.22.0) |

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
| AdvNet | no clean results | — | — |
| GlanceAgain | no clean results | — | — |

## Table II: Accuracy of models on adversarial samples crafted for NormalNet

FGSM transfer at eps 0.3: adversarial images crafted on the source model, evaluated on each model.

### mnist · pixel eps · test split · crafted on NormalNet

| Model | Ours: mean ± sd (95% CI) [n] | Paper | Ours − paper |
|---|---:|---:|---:|
| NormalNet (white-box) | 6.5 ± 0.5 (95% CI 5.3–7.7) [3] | 6.7 | -0.2 |
| AdvNet | 94.5 ± 0.5 (95% CI 93.3–95.7) [3] | 94.4 | +0.1 |
| GlanceAgain | 90.5 ± 0.5 (95% CI 89.3–91.7) [3] | 91.2 | -0.7 |

### fashion-mnist · pixel eps · test split · crafted on NormalNet

| Model | Ours: mean ± sd (95% CI) [n] | Paper | Ours − paper |
|---|---:|---:|---:|
| NormalNet | no results at eps 0.3 | — | — |
| AdvNet | no results at eps 0.3 | — | — |
| GlanceAgain | no results at eps 0.3 | — | — |

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

### fashion-mnist · pixel eps · test split

| Model | Ours: mean ± sd (95% CI) [n] | Paper | Ours − paper |
|---|---:|---:|---:|
| NormalNet | no results at eps 0.3 (measured at eps 0.1) | — | — |
| AdvNet | no results at eps 0.3 | — | — |
| GlanceAgain | no results at eps 0.3 | — | — |
| GlanceAgain (EOT-10) | no results at eps 0.3 | — | — |

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

Accuracy (%) of every cell of Tables I–III for each seed; spread: the largest minus the smallest seed. The plot shows the same cells: our mean on its 95% CI, each seed as a ring, the paper as a diamond.

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

The first images of the evaluation split, clean and under white-box FGSM on each model (first seed) at the run's eps in each unit, with the label and each prediction (red: wrong). Made by \`glance gallery\`.

![clean and adversarial digits](gallery.svg)

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

  it('keeps the paper tables when nothing is at eps 0.3, saying so', () => {
    const out = renderReport({
      title: 't', protocol: [], command: 'x',
      results: [result({ threat: 'white-box', attack: 'fgsm', source: 'NormalNet', eps: 0.25, correct: 100 })],
    });
    expect(out).toContain('| NormalNet | no results at eps 0.3 (measured at eps 0.25) | 6.7 | — |');
    expect(out).toContain('| GlanceAgain (EOT) | no results at eps 0.3 | — | — |');
    expect(out).toContain('| AdvNet | no results at eps 0.3 | 94.4 | — |');
    expect(out).not.toContain('## Epsilon sweep');
  });

  it('with no results still renders every section header', () => {
    const out = renderReport({ title: 't', protocol: [['a|b', 'c']], command: 'glance run --x `y`', results: [] });
    expect(out).toContain('| a\\|b | c |');
    expect(out).toContain('## Table III');
    expect(out).toContain('No results yet.');
    expect(out).toContain('```sh\nglance run --x `y`\n```');
  });

  it("ends every report with the paper's full reference; empty sections are left out", () => {
    const out = renderReport({ title: 't', protocol: [], command: 'x', results: [], training: [] });
    expect(out.trimEnd().split('\n').slice(-3)[0]).toMatch(/^Paper reproduced: Anudeep Das\. "GlanceAgain: Adversarial Defense using Recurrent Layers"/);
    expect(out).toContain('CITATION.cff');
    for (const h of ['## Per-seed values', '## Training curves', '## Adversarial digits', '![']) expect(out).not.toContain(h);
  });
});
