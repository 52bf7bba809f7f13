import { test } from 'node:test';
import assert from 'node:assert/strict';
import { preprocess, preprocessMask, resizeArea, resizeBack, place } from '../../camera/preprocess.js';
import { clahe } from '../../camera/clahe.js';
import { readGreyImage } from '../../common/image-io.js';

const grey = (width: number, height: number, f: (x: number, y: number) => number) => {
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = f(x, y);
  return { width, height, data };
};

/** Independent float reference: integrate the source over each output cell. */
function areaReference(img: { width: number; height: number; data: Uint8Array }, w: number, h: number): number[] {
  const out: number[] = [];
  const sx = img.width / w;
  const sy = img.height / h;
  const cover = (lo: number, hi: number, j: number) => Math.max(0, Math.min(hi, j + 1) - Math.max(lo, j));
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let j = Math.floor(y * sy); j < Math.min(img.height, Math.ceil((y + 1) * sy)); j++) {
        for (let i = Math.floor(x * sx); i < Math.min(img.width, Math.ceil((x + 1) * sx)); i++) {
          s += cover(x * sx, (x + 1) * sx, i) * cover(y * sy, (y + 1) * sy, j) * img.data[j * img.width + i];
        }
      }
      out.push(s / (sx * sy));
    }
  }
  return out;
}

test('area resize: integer ratios average blocks, ties round up', () => {
  const img = grey(4, 2, (x, y) => [0, 1, 10, 20, 2, 3, 30, 41][y * 4 + x]);
  const r = resizeArea(img, 2, 1);
  // (0+1+2+3)/4 = 1.5 -> 2; (10+20+30+41)/4 = 25.25 -> 25
  assert.deepEqual([...r.data], [2, 25]);
});

test('area resize matches a float area integral on odd ratios (down and up)', () => {
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) >> 8) & 255;
  const img = grey(37, 23, () => rnd());
  for (const [w, h] of [[16, 16], [13, 7], [48, 32]]) {
    const got = resizeArea(img, w, h).data;
    const ref = areaReference(img, w, h);
    for (let i = 0; i < ref.length; i++) assert.ok(Math.abs(got[i] - ref[i]) <= 0.5 + 1e-9, `${w}x${h} pixel ${i}: ${got[i]} vs ${ref[i]}`);
  }
});

test('area resize to the same size is the identity', () => {
  const img = grey(32, 16, (x, y) => (x * 7 + y * 13) & 255);
  assert.deepEqual(resizeArea(img, 32, 16).data, img.data);
});

test('stretch fills the whole input; 3 channels replicate grey', () => {
  const img = grey(64, 32, (x) => (x < 32 ? 0 : 200));
  const r = preprocess(img, { width: 16, height: 16, channels: 3 }, { resize: 'stretch', normalize: 'unit' });
  assert.equal(r.data.length, 16 * 16 * 3);
  assert.deepEqual([...r.data.subarray(0, 3)], [0, 0, 0]);
  assert.deepEqual([...r.data.subarray(15 * 3, 16 * 3)], [200, 200, 200]);
  assert.deepEqual(r.placement, { srcWidth: 64, srcHeight: 32, x: 0, y: 0, width: 16, height: 16 });
});

test('letterbox keeps the aspect ratio and pads with black', () => {
  const img = grey(200, 100, () => 255);
  const r = preprocess(img, { width: 128, height: 128, channels: 1 }, { resize: 'letterbox', normalize: 'unit' });
  assert.deepEqual(r.placement, { srcWidth: 200, srcHeight: 100, x: 0, y: 32, width: 128, height: 64 });
  assert.equal(r.data[31 * 128 + 5], 0);
  assert.equal(r.data[32 * 128 + 5], 255);
  assert.equal(r.data[95 * 128 + 5], 255);
  assert.equal(r.data[96 * 128 + 5], 0);
  assert.deepEqual(place(100, 200, { width: 128, height: 128, channels: 1 }, 'letterbox'), { srcWidth: 100, srcHeight: 200, x: 32, y: 0, width: 64, height: 128 });
});

test('masks: lesion where at least half of the cell is covered; resizeBack inverts a block mask', () => {
  const m = grey(40, 40, (x, y) => (x >= 10 && x < 30 && y >= 10 && y < 30 ? 1 : 0));
  const s = preprocessMask(m, { width: 8, height: 8, channels: 1 }, { resize: 'stretch', normalize: 'unit' });
  const expect = grey(8, 8, (x, y) => (x >= 2 && x < 6 && y >= 2 && y < 6 ? 1 : 0)).data;
  assert.deepEqual(s, expect);
  const back = resizeBack(s, 8, 8, place(40, 40, { width: 8, height: 8, channels: 1 }, 'stretch'));
  assert.deepEqual(back.data, m.data);
});

test('resizeBack drops letterbox padding', () => {
  const size = { width: 16, height: 16, channels: 1 };
  const p = place(32, 16, size, 'letterbox'); // content 16x8 at y = 4
  const map = grey(16, 16, (_x, y) => (y < 4 || y >= 12 ? 9 : 1)).data;
  const back = resizeBack(map, 16, 16, p);
  assert.equal(back.width, 32);
  assert.equal(back.height, 16);
  assert.ok(back.data.every((v) => v === 1));
});

test('bad sizes and modes are clear errors', () => {
  const img = grey(8, 8, () => 0);
  assert.throws(() => preprocess(img, { width: 0, height: 8, channels: 1 }, { resize: 'stretch', normalize: 'unit' }), /model size/);
  assert.throws(() => preprocess(img, { width: 8, height: 8, channels: 2 }, { resize: 'stretch', normalize: 'unit' }), /channels/);
  assert.throws(() => preprocess(img, { width: 8, height: 8, channels: 1 }, { resize: 'crop' as 'stretch', normalize: 'unit' }), /resize mode/);
});

test('CLAHE with one tile and no clipping is plain histogram equalisation', () => {
  const img = grey(16, 16, (x, y) => 100 + ((x + y * 16) >> 5)); // 8 grey levels 100..107, 32 pixels each
  const out = clahe(img, 1000, 1);
  // cdf of level k = 32 (k + 1) of 256 pixels -> round(255 (k + 1) / 8)
  for (let k = 0; k < 8; k++) assert.equal(out.data[k * 32], Math.round((255 * (k + 1)) / 8));
});

test('CLAHE clipping limits the contrast gain and keeps the order of grey levels', () => {
  const img = grey(64, 64, (x) => 120 + (x >> 3)); // a low-contrast ramp
  const free = clahe(img, 1000, 1);
  const clipped = clahe(img, 2, 1);
  const span = (d: Uint8Array) => Math.max(...d) - Math.min(...d);
  assert.ok(span(clipped.data) < span(free.data), `clipped span ${span(clipped.data)} vs free ${span(free.data)}`);
  assert.ok(span(clipped.data) > span(img.data), 'CLAHE should still raise the contrast');
  for (let x = 1; x < 64; x++) assert.ok(clipped.data[x] >= clipped.data[x - 1]);
  const tiled = clahe(img, 3, 8);
  assert.equal(tiled.width, 64);
  assert.deepEqual(clahe(img, 3, 8).data, tiled.data, 'deterministic');
});

test('a real BUSI image: the model input equals the mean of its source block', () => {
  const img = readGreyImage('../shared/data/busi/benign/benign (1).png');
  const size = { width: 128, height: 128, channels: 1 };
  const r = preprocess(img, size, { resize: 'stretch', normalize: 'unit' });
  const ref = areaReference(img, 128, 128);
  let maxErr = 0;
  for (let i = 0; i < ref.length; i++) maxErr = Math.max(maxErr, Math.abs(r.data[i] - ref[i]));
  assert.ok(maxErr <= 0.5 + 1e-9, `max error ${maxErr}`);
});
