/**
 * Native memory across many calls of the LSTM op (src/ops/lstm.ts, forward and
 * backward) on the node backend, where it runs TensorFlow's fused kernels, beside
 * a control loop of plain matmuls: `npx tsx --expose-gc bench/leak-lstm.ts [calls]`
 * (node --expose-gc --import tsx ...). tf.memory() cannot see memory that
 * tfjs-node's binding leaks, the process RSS can: a leaking kernel grows the LSTM
 * loop's RSS with every call and not the control's (src/backend/node/lstm.ts makes
 * the int64 sequence length once for this reason).
 */
import * as tf from '@tensorflow/tfjs';
import { configureNativeThreads } from '../src/backend/native-env.js';
import { selectBackend } from '../src/backend/select.js';
import { lstm } from '../src/ops/lstm.js';

configureNativeThreads();
await selectBackend('node');
const calls = Number(process.argv[2] ?? 20000);
const x = tf.randomNormal([8, 6, 16]);
const [w, u, b] = [tf.randomNormal([16, 32]), tf.randomNormal([8, 32]), tf.zeros([32])];
const lstmStep = () =>
  tf.grads((...t: tf.Tensor[]) => tf.sum(lstm(t[0] as tf.Tensor3D, { inputKernel: t[1] as tf.Tensor2D, recurrentKernel: t[2] as tf.Tensor2D, bias: t[3] as tf.Tensor1D })))([x, w, u, b]);
const control = () => tf.grads((a: tf.Tensor, k: tf.Tensor) => tf.sum(tf.matMul(a as tf.Tensor2D, k as tf.Tensor2D)))([tf.reshape(x, [48, 16]), w]);
const rssMB = () => process.memoryUsage().rss / 1e6;
for (const [name, step] of [['control (matmul)', control], ['LSTM op', lstmStep]] as const) {
  const marks: number[] = [];
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < calls; i++) tf.tidy(() => { step(); });
    (globalThis as { gc?: () => void }).gc?.();
    marks.push(rssMB());
  }
  const perCall = ((marks[2] - marks[0]) * 1e6) / (2 * calls);
  console.log(`${name}: RSS ${marks.map((m) => m.toFixed(0)).join(' -> ')} MB over rounds of ${calls} forward+backward calls; ${perCall.toFixed(0)} bytes per call after the first round; tensors ${tf.memory().numTensors}`);
}
