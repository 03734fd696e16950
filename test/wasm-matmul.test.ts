import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { installWasmMatMulFix } from '../src/backend/wasm-matmul.js';
import { Rng } from '../src/models/rng.js';

function randomArray(rng: Rng, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => rng.uniform(-1, 1));
}

/** a @ b on a backend, with the given transposes; plain arrays out. */
async function matmulOn(backend: string, a: Float32Array, aShape: number[], b: Float32Array, bShape: number[], ta: boolean, tb: boolean) {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const A: tf.Tensor = tf.tensor(a, aShape);
    const B: tf.Tensor = tf.tensor(b, bShape);
    const out = tf.matMul(A as tf.Tensor3D, B as tf.Tensor3D, ta, tb);
    return { shape: out.shape, data: out.dataSync().slice() };
  });
}

describe('wasm transposed-matmul fix', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
    installWasmMatMulFix();
  });

  const cases: Array<{ m: number; k: number; n: number; batch?: number; batchB?: number }> = [
    { m: 7, k: 13, n: 5 },
    { m: 64, k: 784, n: 100 },
    { m: 3, k: 4, n: 6, batch: 5 },
    { m: 6, k: 9, n: 2, batch: 4, batchB: 1 },
    // Beyond one 16 x 16 tile of the transpose kernel, with partial tiles.
    { m: 37, k: 50, n: 21, batch: 2 },
  ];
  for (const c of cases) {
    for (const ta of [false, true]) {
      for (const tb of [false, true]) {
        it(`matches cpu for [${c.batch ?? ''}${c.batch ? 'x' : ''}${c.m}x${c.k}] x [${c.k}x${c.n}], transposeA=${ta}, transposeB=${tb}`, async () => {
          const rng = new Rng(c.m * 1000 + c.k, c.n);
          const ba = c.batch;
          const bb = c.batchB ?? c.batch;
          const aShape = [...(ba ? [ba] : []), ...(ta ? [c.k, c.m] : [c.m, c.k])];
          const bShape = [...(bb ? [bb] : []), ...(tb ? [c.n, c.k] : [c.k, c.n])];
          const a = randomArray(rng, aShape.reduce((x, y) => x * y));
          const b = randomArray(rng, bShape.reduce((x, y) => x * y));
          const before = tf.memory().numTensors;
          const wasm = await matmulOn('wasm', a, aShape, b, bShape, ta, tb);
          expect(tf.memory().numTensors).toBe(before);
          const cpu = await matmulOn('cpu', a, aShape, b, bShape, ta, tb);
          expect(wasm.shape).toEqual(cpu.shape);
          let worst = 0;
          for (let i = 0; i < cpu.data.length; i++) worst = Math.max(worst, Math.abs(wasm.data[i] - cpu.data[i]));
          // float32 sums of k products of numbers in [-1, 1]: a few ulps of sqrt(k).
          expect(worst).toBeLessThan(1e-5 * Math.sqrt(c.k) * 4);
        });
      }
    }
  }

  it('the gradient of a dense layer on wasm matches cpu', async () => {
    const rng = new Rng(3, 3);
    const x = randomArray(rng, 32 * 50);
    const w = randomArray(rng, 50 * 20);
    const grads = async (backend: string) => {
      await tf.setBackend(backend);
      return tf.tidy(() => {
        const [gx, gw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D))))([
          tf.tensor2d(x, [32, 50]),
          tf.tensor2d(w, [50, 20]),
        ]);
        return [gx.dataSync().slice(), gw.dataSync().slice()];
      });
    };
    const [wx, ww] = await grads('wasm');
    const [cx, cw] = await grads('cpu');
    for (let i = 0; i < cx.length; i++) expect(wx[i]).toBeCloseTo(cx[i], 3);
    for (let i = 0; i < cw.length; i++) expect(ww[i]).toBeCloseTo(cw[i], 3);
  });
});
