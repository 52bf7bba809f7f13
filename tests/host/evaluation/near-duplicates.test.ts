import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fingerprint, correlation, twinPairs, twinGroups, nearestTwin, makeSplitManifest, fingerprintEntries, TWIN_THRESHOLD } from '../../../host/evaluation/near-duplicates.js';
import { listBusi, readBusiImage } from '../../../models/datasets/busi.js';
import { readSplitManifest, SHIPPED_SPLIT } from '../../../models/datasets/split.js';
import type { GreyImage } from '../../../common/image-io.js';

const BUSI = '../shared/data/busi';

function crop(img: GreyImage, x0: number, y0: number, w: number, h: number): GreyImage {
  const data = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) data.set(img.data.subarray((y0 + y) * img.width + x0, (y0 + y) * img.width + x0 + w), y * w);
  return { width: w, height: h, data };
}

test('fingerprint: blind to gain and offset, finds a re-saved crop, tells different scans apart', () => {
  const es = listBusi(BUSI);
  const a = readBusiImage(es.find((e) => e.name === 'benign (10).png')!);
  const b = readBusiImage(es.find((e) => e.name === 'malignant (20).png')!);
  const dim = { ...a, data: a.data.map((v) => Math.round(v * 0.6 + 40)) };
  assert.ok(correlation(fingerprint(a), fingerprint(dim)) > 0.999);
  // 2% trimmed off each side, as some of BUSI's re-exported twins are (3% falls below: docs/datasets.md)
  const dx = Math.round(a.width * 0.02);
  const dy = Math.round(a.height * 0.02);
  const trimmed = crop(a, dx, dy, a.width - 2 * dx, a.height - 2 * dy);
  assert.ok(correlation(fingerprint(a), fingerprint(trimmed)) >= TWIN_THRESHOLD);
  assert.ok(correlation(fingerprint(a), fingerprint(b)) < TWIN_THRESHOLD);
  const flat = fingerprint({ width: 40, height: 40, data: new Uint8Array(1600).fill(9) });
  assert.ok(flat.every((v) => v === 0), 'a flat image has no pattern to match');
});

test('twin pairs group transitively; nearestTwin finds the best reference', () => {
  const v = (xs: number[]) => {
    const f = Float32Array.from(xs);
    const n = Math.hypot(...xs);
    return f.map((x) => x / n);
  };
  const prints = [v([1, 0, 0]), v([0.99, 0.14, 0]), v([0.96, 0.28, 0]), v([0, 0, 1])];
  const pairs = twinPairs(prints, 0.98);
  assert.deepEqual(pairs.map((p) => [p.a, p.b]), [[0, 1], [1, 2]]);
  assert.deepEqual(twinGroups(4, pairs), [0, 0, 0, 3], '0 and 2 are twins through 1');
  const best = nearestTwin([prints[3], prints[2]], [prints[0], prints[3]]);
  assert.deepEqual(best.map((b) => b.index), [1, 0]);
});

test('the shipped split is what aunet dataset split makes of the BUSI folder, and no val/test image has a twin in train', () => {
  const shipped = readSplitManifest();
  const { manifest, entries } = makeSplitManifest(BUSI);
  assert.deepEqual(manifest, JSON.parse(readFileSync(SHIPPED_SPLIT, 'utf8')), 'regenerate with: aunet dataset split --dataset ../shared/data/busi --out models/datasets/busi-split.json');
  const listed = listBusi(BUSI, shipped);
  assert.equal(listed.length, 624);
  const prints = fingerprintEntries(entries);
  const of = (s: string) => listed.flatMap((e, i) => (e.split === s ? [prints[i]] : []));
  for (const s of ['val', 'test']) {
    const worst = Math.max(...nearestTwin(of(s), of('train')).map((b) => b.correlation));
    assert.ok(worst < TWIN_THRESHOLD, `${s} has an image with correlation ${worst} to a training image`);
  }
  assert.ok(shipped.counts.excluded.benign + shipped.counts.excluded.malignant >= 2, 'the benign/malignant twins are out');
});
