import { describe, expect, it } from 'vitest';
import { parseSetup } from '../bench/peers.js';
import { peerBlas, peerVersions } from '../bench/report.js';
import type { PeerResult } from '../bench/types.js';

describe('peer setup lines', () => {
  it('reads ok, skip and env lines, the environment going to its peer', () => {
    const setup = parseSetup([
      'ok tensorflow .cache/bench-venv/bin/python',
      'skip jax pip could not install jax==0.10.2 into .cache/bench-venv (see the messages above)',
      'ok pytorch /usr/bin/python3',
      'env pytorch LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread:/opt/lib',
      'env pytorch not a variable',
      'env nobody X=1',
      'some other line',
    ].join('\n'));
    expect(setup).toEqual({
      tensorflow: { python: '.cache/bench-venv/bin/python', env: {} },
      jax: { reason: 'pip could not install jax==0.10.2 into .cache/bench-venv (see the messages above)' },
      pytorch: { python: '/usr/bin/python3', env: { LD_LIBRARY_PATH: '/usr/lib/x86_64-linux-gnu/openblas-pthread:/opt/lib' } },
    });
  });

  it('an env line before its ok line still counts; a skipped peer gets none', () => {
    const setup = parseSetup('env pytorch A=1\nok pytorch /usr/bin/python3\nenv jax B=2\nskip jax no\n');
    expect(setup.pytorch).toEqual({ python: '/usr/bin/python3', env: { A: '1' } });
    expect(setup.jax).toEqual({ reason: 'no' });
  });
});

describe('the BLAS a peer loaded, in the report', () => {
  const torch = (blas?: Extract<PeerResult, { state: 'completed' }>['blas'], env?: Record<string, string>): Extract<PeerResult, { state: 'completed' }> => ({
    state: 'completed', peer: 'pytorch', python: '/usr/bin/python3', env, blas,
    versions: { torch: '1.13.0a0', 'built for BLAS': 'generic' }, threads: { intraop: 1, interop: 1, openblas: 1 }, models: {},
  });

  it('names the mapped library, the file it links to, and OpenBLAS\'s config, next to the versions', () => {
    const p = torch(
      { loaded: [{ path: '/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3', realpath: '/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3' }], config: 'OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64' },
      { LD_LIBRARY_PATH: '/usr/lib/x86_64-linux-gnu/openblas-pthread' },
    );
    expect(peerVersions(p)).toBe('- PyTorch: torch 1.13.0a0, built for BLAS generic; intraop=1, interop=1, openblas=1; python /usr/bin/python3 ' +
      'with LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread; ' +
      'BLAS loaded: `/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3` (OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64)');
  });

  it('shows a link with its target, and says when no BLAS was mapped', () => {
    expect(peerBlas(torch({ loaded: [{ path: '/usr/lib/libblas.so.3', realpath: '/usr/lib/blas/libblas.so.3.11.0' }] }))).toBe('`/usr/lib/libblas.so.3 → /usr/lib/blas/libblas.so.3.11.0`');
    expect(peerBlas(torch({ loaded: [] }))).toBe('none mapped');
  });

  it('an older result without the field (or a peer on no BLAS) shows what it has', () => {
    expect(peerBlas(torch())).toBeUndefined();
    expect(peerVersions(torch())).toBe('- PyTorch: torch 1.13.0a0, built for BLAS generic; intraop=1, interop=1, openblas=1; python /usr/bin/python3');
  });
});
