/**
 * examples/k8s/glance-indexed-job.yaml, checked offline (no cluster here): the
 * Job schema of kubernetes-models, then what glance relies on, field by field
 * (the schema does not catch a misspelled field name, so each one we need is read back).
 */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { resolveShard } from '../src/experiments/shard.js';

const file = fileURLToPath(new URL('../examples/k8s/glance-indexed-job.yaml', import.meta.url));
const manifest = parse(readFileSync(file, 'utf8')) as any;

describe('the Kubernetes Indexed Job manifest', () => {
  it('is a valid batch/v1 Job', () => {
    expect(() => new Job(manifest).validate()).not.toThrow();
    // The validator is live: a wrong enum value fails.
    expect(() => new Job({ ...manifest, spec: { ...manifest.spec, completionMode: 'Indexd' } }).validate()).toThrow(/completionMode/);
  });

  it('runs one shard per index, retries an index on its own, fails it at once on a usage error', () => {
    const spec = manifest.spec;
    expect(spec.completionMode).toBe('Indexed');
    expect(spec.backoffLimitPerIndex).toBeGreaterThan(0);
    expect(spec.template.spec.restartPolicy).toBe('Never');
    const container = spec.template.spec.containers[0];
    const failIndex = spec.podFailurePolicy.rules.find((r: { action: string }) => r.action === 'FailIndex');
    expect(failIndex.onExitCodes).toEqual({ containerName: container.name, operator: 'In', values: [2] });
    const command = [...container.command, ...container.args].join(' ');
    expect(command).toMatch(/--shard auto --shards (\d+)/);
    const shards = command.match(/--shards (\d+)/)![1];
    expect(Number(shards)).toBe(spec.completions);
    // Each index writes its own store, named like glance slurm's (1-based).
    expect(command).toContain('--out "/runs/paper/shards/$((JOB_COMPLETION_INDEX + 1))"');
    // Every index maps to a shard of the split.
    for (let k = 0; k < spec.completions; k++) {
      expect(resolveShard('auto', shards, { JOB_COMPLETION_INDEX: String(k) })).toEqual({ index: k + 1, count: spec.completions });
    }
  });
});
