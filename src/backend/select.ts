/**
 * Chooses the TensorFlow.js backend of this thread, once.
 *
 *   node  native TensorFlow (@tensorflow/tfjs-node, built by `npm run native`)
 *   wasm  @tensorflow/tfjs-backend-wasm, installs anywhere
 *   cpu   pure JS, the slow reference
 *   auto  node when it loads, else wasm (backendHint() then suggests npm run native)
 *
 * A thread keeps the backend it chose: calling again with the same choice (or with
 * the name that 'auto' resolved to) returns the same info; another choice throws.
 * Nothing here prints.
 */
import { NATIVE_HINT, type BackendChoice, type BackendInfo, type BackendName } from '../experiments/types.js';
import { BackendLoadError, loadBackend } from './load.js';


interface Selection {
  choice: BackendChoice;
  info: BackendInfo;
  /** Why 'auto' did not pick node, when it did not. */
  nativeError?: string;
}

let selection: Selection | undefined;
let pending: { choice: BackendChoice; promise: Promise<Selection> } | undefined;

function compatible(choice: BackendChoice, s: { choice: BackendChoice; info?: BackendInfo }): boolean {
  return choice === s.choice || (s.info !== undefined && choice === s.info.name);
}

function alreadyChosen(choice: BackendChoice, s: Selection | { choice: BackendChoice }): Error {
  const got = 'info' in s ? `'${s.info.name}'${s.choice === 'auto' ? ' (from auto)' : ''}` : `'${s.choice}' (loading)`;
  return new Error(`the backend of this thread is already ${got}; cannot switch to '${choice}'. ` +
    'A thread uses one backend: start another worker or process for another backend.');
}

async function choose(choice: BackendChoice): Promise<Selection> {
  if (choice !== 'auto') return { choice, info: (await loadBackend(choice)).info };
  try {
    return { choice, info: (await loadBackend('node')).info };
  } catch (e) {
    if (!(e instanceof BackendLoadError)) throw e;
    return { choice, info: (await loadBackend('wasm')).info, nativeError: e.reason };
  }
}

/**
 * Loads the chosen backend and makes it active in this thread's tfjs.
 * 'node' that cannot load throws an Error saying why and what to do
 * (`npm run native`, or `--backend wasm`).
 */
export async function selectBackend(choice: BackendChoice): Promise<BackendInfo> {
  if (selection) {
    if (!compatible(choice, selection)) throw alreadyChosen(choice, selection);
    return { ...selection.info };
  }
  if (pending) {
    if (pending.choice !== choice) throw alreadyChosen(choice, pending);
    return { ...(await pending.promise).info };
  }
  const promise = choose(choice);
  pending = { choice, promise };
  try {
    selection = await promise;
  } finally {
    pending = undefined; // a failed selection leaves the thread free to choose again
  }
  return { ...selection.info };
}

/** The backend chosen in this thread, if any. */
export function selectedBackend(): BackendInfo | undefined {
  return selection && { ...selection.info };
}

/**
 * A one-line suggestion for the CLI to print, or undefined: set when 'auto' fell
 * back to wasm because the native backend did not load.
 */
export function backendHint(): string | undefined {
  return selection?.nativeError !== undefined ? NATIVE_HINT : undefined;
}

/** Why 'auto' did not pick the native backend (the load error), when it did not. */
export function nativeFallbackReason(): string | undefined {
  return selection?.nativeError;
}

export type { BackendChoice, BackendInfo, BackendName };
