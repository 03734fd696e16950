/**
 * The digit gallery as a standalone SVG: the clean images with their labels on
 * top, then a row per (model, eps units, eps) of the adversarial images with what
 * the model predicts on the clean and on the attacked image ('7 → 3'; a wrong
 * prediction in vermillion with a cross). Each digit is a small grey PNG inside
 * the SVG, written here without compression (stored deflate blocks), so the
 * bytes depend on the pixels alone and the SVG is golden-testable.
 */
import { fmtEps } from './format.js';
import { CHAR_WIDTH, escapeXml, n2, svgOpen } from './svg.js';

const SIDE = 28;
const PIXELS = SIDE * SIDE;

export interface GalleryRow {
  /** The model as trained: 'NormalNet', 'AdvNet@pixel'. */
  label: string;
  eps: number;
  units: string;
  /** [n * 784]; display clamps to [0, 1] (normalized units are not clipped). */
  adversarial: ArrayLike<number>;
  cleanPredictions: ArrayLike<number>;
  predictions: ArrayLike<number>;
}

export interface GalleryImages {
  /** [n * 784] in [0, 1]. */
  clean: ArrayLike<number>;
  labels: ArrayLike<number>;
  rows: GalleryRow[];
  /** A line under the title: the run, seed and split the images come from. */
  caption?: string;
}

const SCALE = 2;
const IMG = SIDE * SCALE;
const CELL = IMG + 10;
const ROW_H = IMG + 34;
const WRONG = '#d55e00';

/** The largest |adversarial - clean| over a row's pixels, in pixel units. */
export function maxPerturbation(clean: ArrayLike<number>, adversarial: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < clean.length; i++) m = Math.max(m, Math.abs(adversarial[i] - clean[i]));
  return m;
}

export function renderGallerySvg(g: GalleryImages, opts: { title?: string } = {}): string {
  const title = opts.title ?? 'Clean and adversarial digits (white-box FGSM)';
  const n = g.labels.length;
  if (g.clean.length !== n * PIXELS) throw new RangeError(`gallery: ${g.clean.length} clean pixels for ${n} labels; expected ${n * PIXELS}`);
  for (const r of g.rows) {
    if (r.adversarial.length !== n * PIXELS || r.predictions.length !== n || r.cleanPredictions.length !== n) {
      throw new RangeError(`gallery row ${r.label} eps ${r.eps}: expected ${n} images and predictions`);
    }
  }
  const rowLabel = (r: GalleryRow) => `${r.label} · ${r.units} eps ${fmtEps(r.eps)}`;
  const left = CHAR_WIDTH * Math.max(10, ...g.rows.map((r) => rowLabel(r).length)) + 16;
  const top = g.caption ? 60 : 44;
  const W = Math.max(left + n * CELL + 12, 420);
  const H = top + (g.rows.length + 1) * ROW_H + 8;
  const out = svgOpen(W, H, title);
  if (g.caption) out.push(`<text class="caption" x="${n2(W / 2)}" y="44" text-anchor="middle" fill="#555555">${escapeXml(g.caption)}</text>`);

  // A thin frame, so a white stroke at the digit's edge is not lost in the white page.
  const image = (pixels: ArrayLike<number>, k: number, x: number, y: number, tip: string) =>
    `<image x="${x}" y="${y}" width="${IMG}" height="${IMG}" style="image-rendering:pixelated" preserveAspectRatio="none" href="data:image/png;base64,${greyPng(pixels, k * PIXELS)}"><title>${escapeXml(tip)}</title></image>` +
    `<rect x="${x - 0.5}" y="${y - 0.5}" width="${IMG + 1}" height="${IMG + 1}" fill="none" stroke="#999999"/>`;

  out.push(`<text class="row-label" x="${left - 10}" y="${top + IMG / 2 + 4}" text-anchor="end" font-weight="bold">clean</text>`);
  for (let k = 0; k < n; k++) {
    const x = left + k * CELL;
    out.push(image(g.clean, k, x, top, `clean image ${k + 1}, label ${g.labels[k]}`),
      `<text x="${x + IMG / 2}" y="${top + IMG + 15}" text-anchor="middle">label ${g.labels[k]}</text>`);
  }
  g.rows.forEach((r, i) => {
    const y = top + (i + 1) * ROW_H;
    const correct = Array.from(r.predictions).filter((p, k) => p === g.labels[k]).length;
    out.push(`<text class="row-label" x="${left - 10}" y="${y + IMG / 2 - 4}" text-anchor="end" font-weight="bold">${escapeXml(rowLabel(r))}</text>`,
      `<text x="${left - 10}" y="${y + IMG / 2 + 12}" text-anchor="end" fill="#555555">${correct}/${n} right, max |Δ| ${maxPerturbation(g.clean, r.adversarial).toFixed(3)}</text>`);
    for (let k = 0; k < n; k++) {
      const x = left + k * CELL;
      const wrong = r.predictions[k] !== g.labels[k];
      out.push(image(r.adversarial, k, x, y, `${rowLabel(r)}, image ${k + 1}: clean → ${r.cleanPredictions[k]}, adversarial → ${r.predictions[k]} (label ${g.labels[k]})`),
        `<text x="${x + IMG / 2}" y="${y + IMG + 15}" text-anchor="middle"${wrong ? ` fill="${WRONG}" font-weight="bold"` : ''}>${r.cleanPredictions[k]} → ${r.predictions[k]}${wrong ? ' ✗' : ''}</text>`);
    }
  });
  out.push('</svg>', '');
  return out.join('\n');
}

/** A 28x28 8-bit grey PNG of pixels[offset .. offset + 784) (clamped to [0, 1]), base64. */
export function greyPng(pixels: ArrayLike<number>, offset = 0): string {
  const raw = new Uint8Array(SIDE * (SIDE + 1));
  for (let r = 0; r < SIDE; r++) {
    raw[r * (SIDE + 1)] = 0; // filter: none
    for (let c = 0; c < SIDE; c++) {
      const v = pixels[offset + r * SIDE + c];
      raw[r * (SIDE + 1) + 1 + c] = Math.round(255 * Math.min(1, Math.max(0, Number.isFinite(v) ? v : 0)));
    }
  }
  const ihdr = new Uint8Array(13);
  const dv = new DataView(ihdr.buffer);
  dv.setUint32(0, SIDE);
  dv.setUint32(4, SIDE);
  ihdr.set([8, 0, 0, 0, 0], 8); // 8-bit, greyscale, deflate, no filter set, no interlace
  const png = concat([
    Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', storedZlib(raw)),
    chunk('IEND', new Uint8Array(0)),
  ]);
  return Buffer.from(png).toString('base64');
}

/** zlib with one stored (uncompressed) deflate block: the data must be under 64 KiB. */
function storedZlib(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 + 5 + data.length + 4);
  const dv = new DataView(out.buffer);
  out[0] = 0x78;
  out[1] = 0x01;
  out[2] = 0x01; // final block, stored
  dv.setUint16(3, data.length, true);
  dv.setUint16(5, ~data.length & 0xffff, true);
  out.set(data, 7);
  let a = 1;
  let b = 0;
  for (const x of data) {
    a = (a + x) % 65521;
    b = (b + a) % 65521;
  }
  dv.setUint32(7 + data.length, ((b << 16) | a) >>> 0);
  return out;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  dv.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const x of bytes) c = CRC_TABLE[(c ^ x) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
