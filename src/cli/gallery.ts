/** `glance gallery DIR`: clean and adversarial digits of a run's trained models, linked from its report. */
import { Command } from 'commander';
import { writeGallery } from '../coordinator/gallery.js';
import { writeRunReport } from '../coordinator/write-report.js';

export function galleryCommand(): Command {
  return new Command('gallery')
    .description("draw clean and white-box FGSM digits of the run's first seed into reports/<run-id>/gallery.svg (needs its checkpoints)")
    .argument('<dir>', 'run directory')
    .option('--reports <dir>', 'where reports go', 'reports')
    .option('--count <n>', 'images from the start of the evaluation split', (v) => Number(v), 8)
    .action(async (dir: string, opts: { reports: string; count: number }) => {
      const g = await writeGallery(dir, { reportsRoot: opts.reports, count: opts.count });
      // The report links the gallery once it exists.
      const r = await writeRunReport(dir, opts.reports);
      console.log(`gallery (${g.panels} rows): ${g.file}\nreport${r.partial ? ' (partial: some jobs are missing)' : ''}: ${r.dir}/report.md`);
    });
}
