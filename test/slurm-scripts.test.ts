/**
 * What `glance slurm` writes, checked without Slurm (test/engine-slurm.test.ts
 * submits them to a real one): the arrays, their dependencies, the logs kept
 * across requeues, absolute paths to this checkout, and the usage errors.
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { slurmScripts, writeSlurmScripts, type SlurmPlan } from '../src/coordinator/slurm.js';
import { writeMeta } from '../src/coordinator/meta.js';
import { PRESETS } from '../src/experiments/presets.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'src/cli/index.ts');

function glance(args: string[], env: Record<string, string | undefined> = {}) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', cli, ...args], { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const plan = (dir: string, over: Partial<SlurmPlan> = {}): SlurmPlan => ({
  dir,
  shards: 3,
  glance: ['/usr/bin/node', '/opt/glance bench/bin/glance.js'],
  resources: { partition: 'cpu', time: '2:00:00', mem: '4G', cpusPerTask: 2 },
  at: '2026-12-01 12:00 UTC',
  ...over,
});

describe('glance slurm scripts', () => {
  const files = Object.fromEntries(slurmScripts(plan('/scratch/my runs/paper')).map((f) => [f.name, f.text]));

  it('a training array and an evaluation array over shards 1..N, each task in its own store', () => {
    for (const name of ['train.sbatch', 'eval.sbatch']) {
      const s = files[name];
      expect(s).toContain('#SBATCH --array=1-3\n');
      expect(s).toMatch(/--shard auto --shards 3 /);
      expect(s).toContain(`--out '/scratch/my runs/paper/shards'/"$SLURM_ARRAY_TASK_ID"`);
      expect(s).toContain('--workers "${SLURM_CPUS_PER_TASK:-1}"');
      expect(s).toContain("exec /usr/bin/node '/opt/glance bench/bin/glance.js' run --config '/scratch/my runs/paper/config.json'");
      for (const d of ['--partition=cpu', '--time=2:00:00', '--mem=4G', '--cpus-per-task=2', '--open-mode=append']) expect(s).toContain(`#SBATCH ${d}\n`);
      // sbatch reads directives only above the first command.
      const firstCommand = s.split('\n').findIndex((l) => l && !l.startsWith('#'));
      expect(s.split('\n').slice(firstCommand).some((l) => l.startsWith('#SBATCH'))).toBe(false);
    }
    expect(files['train.sbatch']).toContain('--stage train');
    expect(files['eval.sbatch']).not.toContain('--stage');
    expect(files['train.sbatch']).toContain(`#SBATCH --output='/scratch/my runs/paper/logs/train-%a.log'`);
    expect(files['eval.sbatch']).toContain('#SBATCH --kill-on-invalid-dep=yes');
  });

  it('submit.sh: evaluation task i after training task i succeeded, the merge after the evaluation array in any case', () => {
    const s = files['submit.sh'];
    expect(s).toContain('shards="${1:-1-3}"');
    expect(s).toMatch(/sbatch --parsable --array="\$shards" "\$dir\/train.sbatch"/);
    expect(s).toMatch(/--dependency="aftercorr:\$train" --kill-on-invalid-dep=yes "\$dir\/eval.sbatch"/);
    expect(s).toMatch(/--dependency="afterany:\$evaluation" "\$dir\/merge.sbatch"/);
    expect(files['merge.sbatch']).toContain(`merge '/scratch/my runs/paper/shards'/{1..3} --out '/scratch/my runs/paper/merged' --reports '/scratch/my runs/paper/reports'`);
  });

  it('every script is valid bash', () => {
    const dir = mkdtempSync(join(tmpdir(), 'glance-slurm-'));
    writeSlurmScripts(plan(dir), PRESETS.smoke);
    for (const name of ['train.sbatch', 'eval.sbatch', 'merge.sbatch', 'submit.sh']) {
      const r = spawnSync('bash', ['-n', join(dir, name)], { encoding: 'utf8' });
      expect(r.status, `${name}: ${r.stderr}`).toBe(0);
      expect(statSync(join(dir, name)).mode & 0o111).not.toBe(0);
    }
    expect(existsSync(join(dir, 'logs'))).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'))).toEqual(PRESETS.smoke);
    // Outside an array the scripts stop at once with what to do.
    const r = spawnSync('bash', [join(dir, 'train.sbatch')], { encoding: 'utf8', env: { PATH: process.env.PATH } });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/submit this script as an array, sbatch --array=1-3/);
  });

  it('refuses to rewrite a directory for another experiment or another shard count, and bad resources', () => {
    const dir = mkdtempSync(join(tmpdir(), 'glance-slurm-'));
    writeSlurmScripts(plan(dir), PRESETS.smoke);
    writeSlurmScripts(plan(dir, { resources: { cpusPerTask: 4 } }), PRESETS.smoke);
    expect(() => writeSlurmScripts(plan(dir), { ...PRESETS.smoke, seeds: [9] })).toThrow(/holds scripts of a different experiment.*seeds/);
    mkdirSync(join(dir, 'shards', '1'), { recursive: true });
    writeMeta(join(dir, 'shards', '1'), { splitSize: 10000, datasetFingerprint: 'x', command: 'x', versions: {}, shard: { index: 1, count: 3 } });
    expect(() => writeSlurmScripts(plan(dir, { shards: 2 }), PRESETS.smoke)).toThrow(/shards of a 3-way split.*--shards 2/);
    expect(() => writeSlurmScripts(plan(dir, { resources: { time: '1:00:00\n#SBATCH --x', cpusPerTask: 1 } }), PRESETS.smoke)).toThrow(/--time: .* is not a Slurm value/);
    expect(() => writeSlurmScripts(plan(dir, { resources: { cpusPerTask: 0 } }), PRESETS.smoke)).toThrow(/--cpus-per-task/);
  });
});

describe('the commands', () => {
  it('glance slurm writes the scripts calling this checkout by absolute path', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'glance-slurm-cli-')), 'grid');
    const r = glance(['slurm', '--preset', 'smoke', '--seeds', '2', '--shards', '2', '--out', dir, '--time', '0:30:00']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`submit:      ${dir}/submit.sh`);
    const train = readFileSync(join(dir, 'train.sbatch'), 'utf8');
    expect(train).toContain(`exec ${process.execPath} --import file://`);
    expect(train).toContain(`${cli} run --config ${dir}/config.json --shard auto --shards 2 --stage train`);
    expect(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).seeds).toEqual([1, 2]);
  });

  it('usage errors exit 2 and say what to do', () => {
    const dir = mkdtempSync(join(tmpdir(), 'glance-slurm-cli-'));
    const tooMany = glance(['slurm', '--preset', 'smoke', '--seeds', '1', '--models', 'NormalNet', '--shards', '2', '--out', dir]);
    expect(tooMany.status).toBe(2);
    expect(tooMany.stderr).toMatch(/--shards: expected at most 1: the grid is split by \(model, seed\)/);
    const noShards = glance(['slurm', '--out', dir]);
    expect(noShards.status).toBe(2);
    expect(noShards.stderr).toMatch(/--shards/);
    const noTask = glance(['reproduce', '--preset', 'smoke', '--shard', 'auto', '--shards', '2', '--out', join(dir, 'r')], { SLURM_ARRAY_TASK_ID: undefined, JOB_COMPLETION_INDEX: undefined });
    expect(noTask.status).toBe(2);
    expect(noTask.stderr).toMatch(/error: --shard auto: neither SLURM_ARRAY_TASK_ID/);
    expect(noTask.stderr).toMatch(/what to do: .*--shard i\/N/);
    const outside = glance(['reproduce', '--preset', 'smoke', '--shard', 'auto', '--shards', '2', '--out', join(dir, 'r')], { SLURM_ARRAY_TASK_ID: '3' });
    expect(outside.status).toBe(2);
    expect(outside.stderr).toMatch(/SLURM_ARRAY_TASK_ID=3 is not a shard of 1\.\.2/);
    expect(existsSync(join(dir, 'r'))).toBe(false);
  });
});
