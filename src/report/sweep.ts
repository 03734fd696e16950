/**
 * Epsilon sweeps: the groups that differ only in eps form one curve (a series).
 * Shared by the Markdown sweep table and the SVG plot so both show the same
 * series under the same names.
 */
import { coordinateKey, type AggregateGroup } from './aggregate.js';
import { attackLabel } from './format.js';

export interface SweepSeries {
  /** Coordinates without eps. */
  key: string;
  /** 'NormalNet · white-box fgsm'. */
  label: string;
  /** The series' groups, sorted by eps. */
  points: AggregateGroup[];
}

/** Groups the aggregated groups into series (all coordinates but eps), in the groups' order. */
export function seriesOf(groups: readonly AggregateGroup[]): SweepSeries[] {
  const byKey = new Map<string, SweepSeries>();
  for (const g of groups) {
    const key = coordinateKey({ ...g, eps: NaN });
    let s = byKey.get(key);
    if (!s) {
      s = { key, label: `${g.model} · ${attackLabel(g)}`, points: [] };
      byKey.set(key, s);
    }
    s.points.push(g);
  }
  for (const s of byKey.values()) s.points.sort((a, b) => a.eps - b.eps);
  return [...byKey.values()];
}

/**
 * The groups worth a sweep: attacked (not clean) series measured at more than
 * one eps. A single eps is a point, not a curve; it is in the report's tables.
 * Callers draw the SVG from exactly these: renderSweepSvg(sweepGroups(groups)).
 */
export function sweepGroups(groups: readonly AggregateGroup[]): AggregateGroup[] {
  return seriesOf(groups)
    .filter((s) => s.points[0].attack !== 'none' && new Set(s.points.map((p) => p.eps)).size > 1)
    .flatMap((s) => s.points);
}
