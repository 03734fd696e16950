/**
 * The Python peers (bench/peers/*_peer.py): set them up with bench/peers/setup.sh,
 * then run each on one core (taskset -c 0, one framework thread) over the same
 * MNIST IDX files, and parse its one JSON line. A peer that cannot be set up or
 * fails is a 'skipped' result with the reason, never silently left out. setup.sh
 * may give a peer more environment (PyTorch: OpenBLAS first on LD_LIBRARY_PATH),
 * which its result records.
 */
import { join } from 'node:path';
import { resolveDataset } from '../src/data/registry.js';
import type { PeerPlan } from './plan.js';
import { pinning, projectRoot, run } from './spawn.js';
import type { PeerName, PeerResult } from './types.js';

export const PEERS: readonly PeerName[] = ['pytorch', 'tensorflow', 'jax'];
const SCRIPT: Record<PeerName, string> = { pytorch: 'torch_peer.py', tensorflow: 'tf_peer.py', jax: 'jax_peer.py' };

/** A peer that can run: its Python, and what setup.sh adds to its environment. */
export interface ReadyPeer {
  python: string;
  env: Record<string, string>;
}
export type PeerSetup = Record<PeerName, ReadyPeer | { reason: string }>;

/** Reads setup.sh's stdout: `ok PEER PYTHON`, `skip PEER REASON`, `env PEER NAME=VALUE` lines (others ignored). Pure. */
export function parseSetup(stdout: string): Partial<PeerSetup> {
  const setup: Partial<PeerSetup> = {};
  const env: Partial<Record<PeerName, Record<string, string>>> = {};
  for (const line of stdout.split('\n')) {
    const m = /^(ok|skip|env) (\w+) (.*)$/.exec(line.trim());
    if (!m || !(PEERS as readonly string[]).includes(m[2])) continue;
    const peer = m[2] as PeerName;
    if (m[1] === 'env') {
      const kv = /^([A-Za-z_]\w*)=(.*)$/.exec(m[3]);
      if (kv) (env[peer] ??= {})[kv[1]] = kv[2];
    } else setup[peer] = m[1] === 'ok' ? { python: m[3], env: {} } : { reason: m[3] };
  }
  for (const [peer, vars] of Object.entries(env) as [PeerName, Record<string, string>][]) {
    const s = setup[peer];
    if (s && 'python' in s) s.env = vars;
  }
  return setup;
}

/** Runs setup.sh (installs what is missing into `venv`, and Debian's packages when root) and reads which peers can run. */
export async function setupPeers(venv: string): Promise<PeerSetup> {
  const root = projectRoot();
  const done = await run(['bash', join(root, 'bench', 'peers', 'setup.sh'), venv], { cwd: root, show: (l) => l.startsWith('bench setup:') });
  const setup = parseSetup(done.stdout);
  for (const p of PEERS) setup[p] ??= { reason: `setup.sh gave no line for it (exit code ${done.code}): ${done.stderrTail.slice(-2).join(' | ')}` };
  return setup as PeerSetup;
}

export async function runPeer(peer: PeerName, ready: ReadyPeer, plan: PeerPlan, cores = '0'): Promise<PeerResult> {
  const { python } = ready;
  const root = projectRoot();
  const data = resolveDataset({ dataset: 'mnist' }).dir;
  const argv = [
    ...pinning(cores), python, join(root, 'bench', 'peers', SCRIPT[peer]), '--data', data,
    '--seconds', String(plan.seconds), '--reps', String(plan.reps), '--warmup-seconds', String(plan.warmupSeconds),
  ];
  const env = { ...process.env, OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', TF_CPP_MIN_LOG_LEVEL: '2', ...ready.env };
  const done = await run(argv, { cwd: root, env, show: (l) => l.startsWith(`  ${peer} `), timeoutMs: 10 * 60_000 });
  const line = done.stdout.trim().split('\n').at(-1) ?? '';
  try {
    const out = JSON.parse(line) as Omit<Extract<PeerResult, { state: 'completed' }>, 'state' | 'python' | 'env'>;
    return { state: 'completed', ...out, peer, python, ...(Object.keys(ready.env).length ? { env: ready.env } : {}) };
  } catch {
    const why = done.stderrTail.filter((l) => l.trim()).slice(-3).join(' | ') || `exit code ${done.code}`;
    return { state: 'skipped', peer, reason: `${SCRIPT[peer]} failed: ${why}` };
  }
}
