// The mask drawn from a probability map and its shaping (models/lesion-mask.ts),
// which the post-processing study of docs/models.md scores: each option on a
// map built to need it, and "no shaping" = the plain threshold the box draws.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fillHoles, labelRegions, lesionMask } from '../../models/lesion-mask.js';

const W = 32;
const H = 24;

function map(...rects: [x: number, y: number, w: number, h: number, v: number][]): Uint8Array {
  const p = new Uint8Array(W * H);
  for (const [x0, y0, w, h, v] of rects) for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) p[y * W + x] = v;
  return p;
}

const regionSizes = (mask: Uint8Array) => labelRegions(mask, W, H).regions.map((r) => r.pixels).sort((a, b) => b - a);

test('lesion mask: without shaping it is prob > threshold, pixel for pixel', () => {
  const p = map([2, 2, 6, 5, 200], [20, 10, 3, 3, 129], [25, 2, 2, 2, 128]);
  const m = lesionMask(p, W, H, 128);
  assert.deepEqual(Array.from(m.mask), Array.from(p, (v) => (v > 128 ? 1 : 0)));
  assert.equal(m.pixels, 30 + 9);
  assert.equal(m.sum, 30 * 200 + 9 * 129);
  assert.equal(lesionMask(p, W, H, 128, {}).pixels, 39, 'an empty shaping changes nothing');
});

test('lesion mask: two blobs, the largest only keeps one; a share of the largest keeps both', () => {
  const p = map([1, 1, 10, 10, 220], [18, 4, 6, 6, 220]); // 100 and 36 px
  assert.deepEqual(regionSizes(lesionMask(p, W, H, 128).mask), [100, 36]);
  assert.deepEqual(regionSizes(lesionMask(p, W, H, 128, { keepFraction: 1 }).mask), [100]);
  assert.deepEqual(regionSizes(lesionMask(p, W, H, 128, { keepFraction: 0.5 }).mask), [100]);
  assert.deepEqual(regionSizes(lesionMask(p, W, H, 128, { keepFraction: 0.25 }).mask), [100, 36]);
});

test('lesion mask: a hole is filled, a bay open to the border is not', () => {
  // a ring (8x8, 2x2 hole) and a U open at the frame's bottom edge
  const p = map([2, 2, 8, 8, 200], [5, 5, 2, 2, 0], [20, 14, 8, 10, 200], [22, 16, 4, 8, 0]);
  const plain = lesionMask(p, W, H, 128);
  const filled = lesionMask(p, W, H, 128, { fillHoles: true });
  assert.equal(filled.pixels - plain.pixels, 4, 'the ring\'s 4 hole pixels and nothing of the U');
  assert.equal(filled.mask[5 * W + 5], 1);
  assert.equal(filled.mask[20 * W + 23], 0);
  // a diagonal gap does not open a hole for 8-connected regions: 4-connected background stays enclosed
  const diamond = new Uint8Array(W * H);
  for (const [x, y] of [[5, 3], [4, 4], [6, 4], [3, 5], [7, 5], [4, 6], [6, 6], [5, 7]]) diamond[y * W + x] = 1;
  fillHoles(diamond, W, H);
  assert.equal(diamond[5 * W + 5], 1);
  assert.equal(diamond[4 * W + 5], 1);
});

test('lesion mask: small regions dropped by share of the frame; weak largest region shows nothing', () => {
  const p = map([1, 1, 10, 10, 140], [20, 4, 3, 3, 250]); // 100 px of p ~0.55 (mass 54.7), 9 px
  // 8 / 768 of the frame: the 9 px region stays, 10 / 768 drops it
  assert.deepEqual(regionSizes(lesionMask(p, W, H, 128, { minRegionFraction: 8 / (W * H) }).mask), [100, 9]);
  assert.deepEqual(regionSizes(lesionMask(p, W, H, 128, { minRegionFraction: 10 / (W * H) }).mask), [100]);
  assert.equal(lesionMask(p, W, H, 128, { minRegionFraction: 0.2 }).pixels, 0, 'every region under the minimum: nothing');
  assert.equal(lesionMask(p, W, H, 128, { minMass: 54 }).pixels, 109);
  const weak = lesionMask(p, W, H, 128, { minMass: 55 });
  assert.equal(weak.pixels, 0);
  assert.equal(weak.sum, 0);
  assert.ok(weak.mask.every((v) => v === 0));
});
