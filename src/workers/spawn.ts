/**
 * Where a worker script lives and how to start it: from the compiled dist/ it is
 * the plain JavaScript file; from the TypeScript sources (tests, tsx) it is a
 * small bootstrap that registers tsx's loader and then imports the .ts file.
 * One place decides, so the pool and the tests agree.
 */
import { fileURLToPath } from 'node:url';

export interface WorkerScript {
  filename: string;
  argv: string[];
}

/** Resolves `relative` (written with a .js extension) next to `fromUrl`. */
export function workerScript(relative: string, fromUrl: string): WorkerScript {
  if (!fromUrl.endsWith('.ts')) return { filename: fileURLToPath(new URL(relative, fromUrl)), argv: [] };
  const target = fileURLToPath(new URL(relative.replace(/\.js$/, '.ts'), fromUrl));
  return { filename: fileURLToPath(new URL('./tsx-bootstrap.mjs', import.meta.url)), argv: [target] };
}
