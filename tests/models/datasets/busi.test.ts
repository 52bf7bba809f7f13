import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from 'fast-png';
import { listBusi, readBusiMask, readBusiImage } from '../../../models/datasets/busi.js';
import { readGreyImage } from '../../../common/image-io.js';
import { makeDataset, disk } from './synthetic-busi.js';

const BUSI = '../shared/data/busi';

test('ground truth is the union of _mask, _mask_1, ... (real file with two masks)', () => {
  const e = listBusi(BUSI).find((x) => x.name === 'benign (100).png')!;
  assert.equal(e.masks.length, 2);
  const img = readBusiImage(e);
  const union = readBusiMask(e, img.width, img.height);
  const parts = e.masks.map((f) => readGreyImage(f).data);
  for (let i = 0; i < union.data.length; i++) assert.equal(union.data[i] !== 0, parts.some((p) => p[i] !== 0));
  const count = (d: Uint8Array) => d.reduce((s, v) => s + (v ? 1 : 0), 0);
  assert.ok(count(union.data) > Math.max(...parts.map(count)), 'the union covers more than either mask');
});

test('RGB images (original release) read the same as grey; RGBA and 1-bit masks are understood', () => {
  const grey = makeDataset(3);
  const rgb = makeDataset(3, { rgb: true });
  try {
    const a = listBusi(grey);
    const b = listBusi(rgb);
    assert.equal(a.length, 9);
    for (let i = 0; i < a.length; i++) {
      assert.deepEqual(readBusiImage(a[i]).data, readBusiImage(b[i]).data);
      const img = readBusiImage(a[i]);
      assert.deepEqual(readBusiMask(a[i], img.width, img.height).data, readBusiMask(b[i], img.width, img.height).data);
    }
    // a 1-bit mask
    const dir = mkdtempSync(join(tmpdir(), 'busi1-'));
    mkdirSync(join(dir, 'benign'));
    const w = 20, h = 10;
    writeFileSync(join(dir, 'benign', 'benign (1).png'), encode({ width: w, height: h, channels: 1, depth: 8, data: new Uint8Array(w * h) }));
    const m = disk(w, h, 10, 5, 3);
    const packed = new Uint8Array(Math.ceil(w / 8) * h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (m[y * w + x]) packed[y * Math.ceil(w / 8) + (x >> 3)] |= 0x80 >> (x & 7);
    writeFileSync(join(dir, 'benign', 'benign (1)_mask.png'), encode({ width: w, height: h, channels: 1, depth: 1, data: packed }));
    const [e] = listBusi(dir);
    assert.deepEqual([...readBusiMask(e, w, h).data].map((v) => (v ? 1 : 0)), [...m]);
    rmSync(dir, { recursive: true });
  } finally {
    rmSync(grey, { recursive: true });
    rmSync(rgb, { recursive: true });
  }
});

test('clear errors: missing folder, no class folders, image without mask, mask of another size', () => {
  assert.throws(() => listBusi('/nonexistent/busi'), /not a readable BUSI dataset folder/);
  const dir = mkdtempSync(join(tmpdir(), 'busi-bad-'));
  try {
    assert.throws(() => listBusi(dir), /no BUSI class folder/);
    mkdirSync(join(dir, 'normal'));
    writeFileSync(join(dir, 'normal', 'normal (1).png'), encode({ width: 4, height: 4, channels: 1, depth: 8, data: new Uint8Array(16) }));
    assert.throws(() => listBusi(dir), /normal \(1\)\.png: no ground-truth mask/);
    writeFileSync(join(dir, 'normal', 'normal (1)_mask.png'), encode({ width: 5, height: 4, channels: 1, depth: 8, data: new Uint8Array(20) }));
    const [e] = listBusi(dir);
    assert.throws(() => readBusiMask(e, 4, 4), /mask is 5x4 but its image is 4x4/);
  } finally {
    rmSync(dir, { recursive: true });
  }
});
