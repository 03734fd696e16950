/**
 * The import direction of ../shared/DESIGN.md, enforced on the sources:
 * cli -> coordinator -> workers -> paper, training, attacks -> ops -> data, with
 * experiments/ (the shared vocabulary) and report/ pure. A fast path is a kernel
 * registered from backend/, so nothing in paper, training or attacks imports it;
 * the coordinator and the pure folders never import TensorFlow.js.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(import.meta.dirname, '../src');

/** Folders (or single files, as folder/file.ts) each folder may import from, besides itself. */
const ALLOWED: Record<string, string[]> = {
  cli: ['coordinator', 'experiments', 'report', 'data', 'backend', 'errors.ts', 'training/checkpoint.ts', 'paper', 'training'],
  coordinator: ['experiments', 'report', 'data', 'errors.ts', 'training/checkpoint.ts', 'paper/weights.ts', 'paper/rng.ts', 'workers/spawn.ts', 'workers/protocol.ts', 'backend/native-env.ts'],
  workers: ['experiments', 'data', 'paper', 'training', 'attacks', 'backend', 'errors.ts'],
  training: ['experiments', 'paper', 'attacks', 'ops', 'data', 'errors.ts'],
  attacks: ['experiments', 'paper', 'ops', 'data'],
  paper: ['experiments', 'ops'],
  ops: [],
  backend: ['ops', 'experiments', 'errors.ts'],
  data: ['experiments', 'errors.ts'],
  report: ['experiments'],
  experiments: ['errors.ts'],
  types: [],
};
/** Folders that must not import TensorFlow.js at all. */
const NO_TFJS = ['coordinator', 'experiments', 'report', 'data'];
const TFJS_FREE_FILES = ['training/checkpoint.ts', 'paper/weights.ts', 'paper/rng.ts'];

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : /\.(ts|mts)$/.test(e.name) && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

/** Every module specifier a file imports or re-exports (static and dynamic). */
function imports(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const re = /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]|(?:^|\n)\s*import\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
  const out: string[] = [];
  for (const m of text.matchAll(re)) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

const rel = (file: string) => path.relative(SRC, file).split(path.sep).join('/');
const FILES = sources(SRC).map(rel);

describe('import direction', () => {
  it.each(FILES)('%s', (file) => {
    const [folder] = file.split('/');
    if (!file.includes('/')) return; // errors.ts: imports nothing of ours
    const allowed = ALLOWED[folder];
    expect(allowed, `src/${folder}/ is not in the layering table of this test`).toBeDefined();
    for (const spec of imports(path.join(SRC, file))) {
      if (spec.startsWith('.')) {
        const target = rel(path.resolve(path.dirname(path.join(SRC, file)), spec)).replace(/\.js$/, '.ts').replace(/\.mjs$/, '.mts');
        const [tFolder] = target.split('/');
        if (tFolder === folder) continue;
        const ok = allowed.some((a) => (a.endsWith('.ts') ? target === a : tFolder === a));
        expect(ok, `src/${file} imports src/${target}, against the import direction`).toBe(true);
      } else if (/^@tensorflow\//.test(spec)) {
        expect(NO_TFJS.includes(folder) || TFJS_FREE_FILES.includes(file), `src/${file} must not import ${spec}`).toBe(false);
      }
    }
  });

  it('nothing in paper, training or attacks imports the backend folder', () => {
    const offenders = FILES.filter((f) => /^(paper|training|attacks)\//.test(f)).filter((f) =>
      imports(path.join(SRC, f)).some((s) => s.startsWith('.') && rel(path.resolve(path.dirname(path.join(SRC, f)), s)).startsWith('backend/')),
    );
    expect(offenders).toEqual([]);
  });
});
