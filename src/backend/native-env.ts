/**
 * TensorFlow's thread pools for the native backend, configured through the
 * environment before `@tensorflow/tfjs-node` loads: one intra-op and one inter-op
 * thread per TensorFlow instance, so that N worker threads use N cores (two intra-op
 * threads in one worker ran slower than one). Also quiets TensorFlow's
 * C++ INFO/WARNING logging, since nothing below the CLI prints: all of it but
 * TensorFlow 2.21's "oneDNN custom operations are on" line, which it logs
 * through absl before its own logging reads the level (no variable stops it).
 * The pool, the gallery and the queue worker call this before their workers
 * load tfjs-node.
 *
 * Caveat: TensorFlow reads these with getenv(). In the main thread, writing
 * process.env reaches getenv(); in a worker thread it does NOT, unless the worker
 * was created with `env: SHARE_ENV` (a worker's process.env is a private copy).
 * So the coordinator calls configureNativeThreads() in the main thread before it
 * starts workers (or creates them with SHARE_ENV); selectBackend() calls it too,
 * which is enough for the main thread and harmless elsewhere.
 */

export const NATIVE_ENV_DEFAULTS: Readonly<Record<string, string>> = {
  TF_NUM_INTRAOP_THREADS: '1',
  TF_NUM_INTEROP_THREADS: '1',
  TF_CPP_MIN_LOG_LEVEL: '2',
};

/** Sets each default that is not already set; returns the ones it set. */
export function configureNativeThreads(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const set: Record<string, string> = {};
  for (const [k, v] of Object.entries(NATIVE_ENV_DEFAULTS)) {
    if (env[k] === undefined || env[k] === '') {
      env[k] = v;
      set[k] = v;
    }
  }
  return set;
}
