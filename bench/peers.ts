/**
 * The Python peers (bench/peers/*_peer.py): set them up with bench/peers/setup.sh,
 * then run each on one core (taskset -c 0, one framework thread) over the same
 * MNIST IDX files, and parse its one JSON line. A peer that cannot be set up or
 * fails is a 'skipped' result with the reason, never silently left out.
 */
import { join } from 'node:path';
import { resolveDataset } from '../src/data/registry.js';
import type { PeerPlan } from './plan.js';
import { pinning, projectRoot, run } from './spawn.js';
import type { PeerName, PeerResult } from './types.js';

export const PEERS: readonly PeerName[] = ['pytorch', 'tensorflow', 'jax'];
const SCRIPT: Record<PeerName, string> = { pytorch: 'torch_peer.py', tensorflow: 'tf_peer.py', jax: 'jax_peer.py' };

export type PeerSetup = Record<PeerName, { python: string } | { reason: string }>;

/** Runs setup.sh (installs what is missing into `venv`) and reads which peers can run. */
export async function setupPeers(venv: string): Promise<PeerSetup> {
  const root = projectRoot();
  const done = await run(['bash', join(root, 'bench', 'peers', 'setup.sh'), venv], { cwd: root, show: (l) => l.startsWith('bench setup:') });
  const setup = {} as PeerSetup;
  for (const line of done.stdout.split('\n')) {
    const m = /^(ok|skip) (\w+) (.*)$/.exec(line.trim());
    if (m && (PEERS as readonly string[]).includes(m[2])) setup[m[2] as PeerName] = m[1] === 'ok' ? { python: m[3] } : { reason: m[3] };
  }
  for (const p of PEERS) setup[p] ??= { reason: `setup.sh gave no line for it (exit code ${done.code}): ${done.stderrTail.slice(-2).join(' | ')}` };
  return setup;
}

export async function runPeer(peer: PeerName, python: string, plan: PeerPlan, cores = '0'): Promise<PeerResult> {
  const root = projectRoot();
  const data = resolveDataset({ dataset: 'mnist' }).dir;
  const argv = [
    ...pinning(cores), python, join(root, 'bench', 'peers', SCRIPT[peer]), '--data', data,
    '--seconds', String(plan.seconds), '--reps', String(plan.reps), '--warmup-seconds', String(plan.warmupSeconds),
  ];
  const env = { ...process.env, OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', TF_CPP_MIN_LOG_LEVEL: '2' };
  const done = await run(argv, { cwd: root, env, show: (l) => l.startsWith(`  ${peer} `), timeoutMs: 10 * 60_000 });
  const line = done.stdout.trim().split('\n').at(-1) ?? '';
  try {
    const out = JSON.parse(line) as Omit<Extract<PeerResult, { state: 'completed' }>, 'state' | 'python'>;
    return { state: 'completed', ...out, peer, python };
  } catch {
    const why = done.stderrTail.filter((l) => l.trim()).slice(-3).join(' | ') || `exit code ${done.code}`;
    return { state: 'skipped', peer, reason: `${SCRIPT[peer]} failed: ${why}` };
  }
}
