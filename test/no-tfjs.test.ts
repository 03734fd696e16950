/**
 * The coordinator and the commands that only read a store (status, report,
 * merge, data check) never load TensorFlow.js: only worker threads do. Each case
 * runs in a child process with a probe (fixtures/tfjs-probe.mjs) that logs every
 * module resolved under @tensorflow and whether a tfjs engine exists at exit.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { writeMeta } from '../src/coordinator/meta.js';
import { RunStore } from '../src/coordinator/store.js';
import { PRESETS } from '../src/experiments/presets.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const probe = join(root, 'test/fixtures/tfjs-probe.mjs');

interface Probe {
  status: number | null;
  stderr: string;
  /** Modules under @tensorflow that were resolved (with the module that imported them) or loaded. */
  tfjs: string[];
  engine: boolean;
}

/** Runs `node --import tsx --import probe ...args` and reads what the probe saw. */
function probed(args: string[]): Probe {
  const log = join(mkdtempSync(join(tmpdir(), 'glance-probe-')), 'log.jsonl');
  writeFileSync(log, '');
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', pathToFileURL(probe).href, ...args], {
    cwd: root,
    env: { ...process.env, GLANCE_TFJS_PROBE_LOG: log },
    encoding: 'utf8',
    timeout: 60_000,
  });
  const entries = readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { resolved?: string; from?: string; exit?: boolean; engine?: boolean; cjs?: string[] });
  const exit = entries.find((e) => e.exit);
  expect(exit, `the probe saw no exit; stderr: ${r.stderr}`).toBeDefined();
  return {
    status: r.status,
    stderr: r.stderr,
    tfjs: [...new Set([...entries.flatMap((e) => (e.resolved ? [`${e.resolved} imported by ${e.from}`] : [])), ...(exit?.cjs ?? [])])],
    engine: exit?.engine ?? false,
  };
}

let run: string;
beforeAll(() => {
  run = mkdtempSync(join(tmpdir(), 'glance-no-tfjs-'));
  new RunStore(run).open(PRESETS.smoke, false);
  writeMeta(run, { splitSize: 10000, datasetFingerprint: 'test', command: 'test', versions: {} });
});

describe('no TensorFlow.js outside the workers', () => {
  it('importing the coordinator and the read-only commands loads no tfjs', () => {
    const modules = [
      'src/coordinator/run.ts',
      'src/coordinator/status.ts',
      'src/coordinator/merge.ts',
      'src/coordinator/write-report.ts',
      'src/coordinator/queue-run.ts',
      'src/coordinator/queue-worker.ts',
      'src/cli/report.ts',
      'src/cli/compare.ts',
      'src/coordinator/gallery.ts',
      'src/cli/gallery.ts',
      'src/cli/status.ts',
      'src/cli/merge.ts',
      'src/cli/slurm.ts',
      'src/coordinator/slurm.ts',
      'src/cli/data-check.ts',
      'src/cli/queue.ts',
      'src/cli/worker.ts',
    ];
    const entry = join(mkdtempSync(join(tmpdir(), 'glance-no-tfjs-entry-')), 'entry.mjs');
    writeFileSync(entry, modules.map((m) => `await import(${JSON.stringify(pathToFileURL(join(root, m)).href)});\n`).join(''));
    const p = probed([entry]);
    expect(p.status, p.stderr).toBe(0);
    expect(p.tfjs).toEqual([]);
    expect(p.engine).toBe(false);
  });

  it('`glance status` through the whole program (every command assembled) loads no tfjs', () => {
    const p = probed([join(root, 'src/cli/index.ts'), 'status', run]);
    expect(p.status, p.stderr).toBe(0);
    expect(p.tfjs).toEqual([]);
    expect(p.engine).toBe(false);
  });
});
