/**
 * Which examples of an evaluation slice were classified correctly, as a compact
 * string stored with each result: bit i (least significant first within a byte)
 * of the base64-decoded bytes is example `start + i` of the slice. Paired
 * statistics (McNemar, model against model on the same images) and the
 * worst case over an attack ensemble need the examples, not only the counts.
 * Pure: no tfjs.
 */

/** Encodes per-example correctness (truthy = correct) in slice order. */
export function encodeBits(correct: ArrayLike<number | boolean>): string {
  const bytes = new Uint8Array(Math.ceil(correct.length / 8));
  for (let i = 0; i < correct.length; i++) if (correct[i]) bytes[i >> 3] |= 1 << (i & 7);
  return Buffer.from(bytes).toString('base64');
}

/** Decodes `n` examples' correctness; refuses a string too short for `n`. */
export function decodeBits(bits: string, n: number): Uint8Array {
  const bytes = Buffer.from(bits, 'base64');
  if (bytes.length !== Math.ceil(n / 8)) {
    throw new Error(`per-example bits hold ${bytes.length * 8} examples, not the ${n} the result counts`);
  }
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (bytes[i >> 3] >> (i & 7)) & 1;
  return out;
}

/** How many examples the bits mark correct (a check against the stored count). */
export function countBits(bits: string, n: number): number {
  let c = 0;
  for (const b of decodeBits(bits, n)) c += b;
  return c;
}
