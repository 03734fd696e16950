/**
 * Loads one TensorFlow.js backend into this thread and makes it the active one
 * of the project's `@tensorflow/tfjs`. No caching policy here (see select.ts) and
 * no printing: failures are thrown as BackendLoadError with the reason and a fix.
 */
import * as tf from '@tensorflow/tfjs';
import { installNodeKernels } from './node/kernels.js';
import { installWasmKernels } from './wasm/install.js';

import type { BackendInfo, BackendName } from '../experiments/types.js';
import { configureNativeThreads } from './native-env.js';

/** The name each backend registers with tfjs-core. */
export const TFJS_BACKEND: Readonly<Record<BackendName, string>> = {
  node: 'tensorflow',
  wasm: 'wasm',
  cpu: 'cpu',
};

const NATIVE_PACKAGE = '@tensorflow/tfjs-node';
const WASM_PACKAGE = '@tensorflow/tfjs-backend-wasm';

export class BackendLoadError extends Error {
  constructor(
    readonly backend: BackendName,
    /** Why it did not load (the underlying error, first line). */
    readonly reason: string,
    /** What to do about it. */
    readonly fix: string,
  ) {
    super(`the ${backend} backend does not load: ${reason}. ${fix}`);
    this.name = 'BackendLoadError';
  }
}

const NATIVE_FIX = 'Run `npm run native` to build it (once per machine; it re-links in seconds after npm ci), ' +
  'or use --backend wasm.';

/** The first line of an error's message, followed by those of its causes. */
function firstLine(e: unknown): string {
  const lines: string[] = [];
  for (let c: unknown = e, depth = 0; c !== undefined && c !== null && depth < 4; depth++) {
    const msg = c instanceof Error ? c.message : String(c);
    lines.push(msg.split('\n')[0]!.trim());
    c = c instanceof Error ? c.cause : undefined;
  }
  return lines.join(': ');
}

/** Versions reported by the native package once it has loaded in this thread. */
export interface NativeVersions {
  tensorflow: string;
  tfjsNode: string;
}

let nativeImport: Promise<unknown> | undefined;

/** Imports @tensorflow/tfjs-node once per thread and checks it registered with our tfjs-core. */
async function importNative(): Promise<{ tfjsNode: string }> {
  configureNativeThreads();
  // A variable specifier: the package is optional, so its types may be absent.
  const specifier: string = NATIVE_PACKAGE;
  nativeImport ??= import(specifier);
  let mod: { version?: Record<string, string>; Tensor?: unknown; default?: { Tensor?: unknown } };
  try {
    mod = (await nativeImport) as typeof mod;
  } catch (e) {
    const missing = (e as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' ||
      /Cannot find (package|module) '@tensorflow\/tfjs-node'/.test(String(e));
    const reason = missing
      ? `${NATIVE_PACKAGE} is not installed (npm ci removes it where its binaries cannot be downloaded)`
      : firstLine(e);
    throw new BackendLoadError('node', reason, NATIVE_FIX);
  }
  // tfjs-node re-exports the @tensorflow/tfjs it resolved. A second copy would still
  // share tfjs's global engine (so the backend even registers), but it re-registers
  // every kernel noisily and its classes differ from ours: refuse it.
  const theirTensor = mod.Tensor ?? mod.default?.Tensor;
  if ((theirTensor !== undefined && theirTensor !== tf.Tensor) || !tf.engine().registryFactory[TFJS_BACKEND.node]) {
    throw new BackendLoadError('node',
      `${NATIVE_PACKAGE} loaded with another copy of @tensorflow/tfjs(-core) than the project's`, 'Run `npm run native` again to re-link it into node_modules, or use --backend wasm.');
  }
  return { tfjsNode: mod.version?.['tfjs-node'] ?? 'unknown' };
}

let wasmImport: Promise<unknown> | undefined;

async function importWasm(): Promise<void> {
  const specifier: string = WASM_PACKAGE;
  wasmImport ??= import(specifier);
  try {
    await wasmImport;
  } catch (e) {
    throw new BackendLoadError('wasm', firstLine(e), 'Run `npm ci` to install the dependencies.');
  }
  installWasmKernels();
}

async function activate(name: BackendName): Promise<void> {
  let ok: boolean;
  try {
    ok = await tf.setBackend(TFJS_BACKEND[name]);
  } catch (e) {
    throw new BackendLoadError(name, firstLine(e), name === 'node' ? NATIVE_FIX : 'Try --backend cpu.');
  }
  if (!ok || tf.getBackend() !== TFJS_BACKEND[name]) {
    throw new BackendLoadError(name, `tf.setBackend('${TFJS_BACKEND[name]}') failed to initialise it`,
      name === 'node' ? NATIVE_FIX : 'Try --backend cpu.');
  }
  await tf.ready();
  if (name === 'node') {
    // tfjs-node crashes the process at exit (SIGSEGV, status 139) when a thread loaded
    // it and never ran an op: a run whose jobs all failed early, or had none for a
    // worker. One op at once makes every such thread's teardown a clean one.
    tf.tidy(() => tf.add(tf.scalar(1), tf.scalar(1))).dispose();
  }
  if (name === 'cpu') {
    // tfjs's cpu backend prints a "install our node backend" banner on its first
    // write in Node; nothing below the CLI prints (backendHint() is the CLI's job).
    const cpu = tf.backend() as unknown as { firstUse?: boolean };
    if (cpu.firstUse === true) cpu.firstUse = false;
  }
}

/** The native TensorFlow library version of the active 'tensorflow' backend. */
function nativeTensorflowVersion(): string {
  const binding = (tf.backend() as unknown as { binding?: { TF_Version?: string } }).binding;
  return binding?.TF_Version ?? 'unknown';
}

export interface LoadedBackend {
  info: BackendInfo;
  /** For node: the @tensorflow/tfjs-node package version. */
  tfjsNode?: string;
}

/**
 * Loads `name` and makes it the active backend of the project's tfjs.
 * Throws BackendLoadError (reason + fix) when it cannot.
 */
export async function loadBackend(name: BackendName): Promise<LoadedBackend> {
  let tfjsNode: string | undefined;
  if (name === 'node') tfjsNode = (await importNative()).tfjsNode;
  else if (name === 'wasm') await importWasm();
  await activate(name);
  if (name === 'node') installNodeKernels();
  const info: BackendInfo = { name, tfjs: tf.version.tfjs };
  if (name === 'node') info.tensorflow = nativeTensorflowVersion();
  return tfjsNode === undefined ? { info } : { info, tfjsNode };
}

/** The tfjs-core backend active in this thread, or undefined if none was initialised yet. */
export function activeTfjsBackend(): string | undefined {
  return tf.engine().backendName ?? undefined;
}
