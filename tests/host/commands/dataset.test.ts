import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportDataset } from '../../../host/commands/dataset.js';
import { readNpyU8 } from '../../../models/datasets/npy.js';
import { listBusi, readBusiImage, readBusiMask } from '../../../models/datasets/busi.js';
import { preprocess, preprocessMask } from '../../../camera/preprocess.js';
import { makeDataset, splitOf } from '../../models/datasets/synthetic-busi.js';

test("dataset export writes uint8 NHWC .npy per split that match the box's own preprocessing", () => {
  const data = makeDataset(5);
  const out = mkdtempSync(join(tmpdir(), 'export-'));
  try {
    const pre = { resize: 'stretch' as const, normalize: 'unit' as const };
    const split = splitOf(data);
    const index = exportDataset({ dataset: data, size: 32, channels: 3, preprocessing: pre, out, calib: 4, split, splitFile: 'synthetic-split.json' });
    assert.equal(index.splits.val.entries.length, 3, 'one of five per class');
    assert.equal(index.splits.test.entries.length, 3, 'one of five per class');
    assert.equal(index.splits.train.entries.length, 9);
    assert.equal(index.split.file, 'synthetic-split.json');
    assert.ok(!index.dataset.includes('/'), 'the folder name only, no path of this machine');
    const onDisk = JSON.parse(readFileSync(join(out, 'index.json'), 'utf8'));
    assert.deepEqual(onDisk.splits.val.entries.map((e: { name: string }) => e.name), index.splits.val.entries.map((e) => e.name));
    const x = readNpyU8(join(out, 'train_images.npy'));
    const m = readNpyU8(join(out, 'train_masks.npy'));
    assert.deepEqual(x.shape, [9, 32, 32, 3]);
    assert.deepEqual(m.shape, [9, 32, 32, 1]);
    assert.ok(m.data.every((v) => v === 0 || v === 1));
    const bytes = readFileSync(join(out, 'train_images.npy'));
    assert.equal((10 + bytes.readUInt16LE(8)) % 64, 0, 'header padded to 64 bytes');
    // the third training image is byte-identical to the box's preprocessing of that file
    const e = listBusi(data, split).filter((v) => v.split === 'train')[2];
    assert.equal(index.splits.train.entries[2].name, e.name);
    const img = readBusiImage(e);
    const size = { width: 32, height: 32, channels: 3 };
    assert.deepEqual(x.data.subarray(2 * 32 * 32 * 3, 3 * 32 * 32 * 3), preprocess(img, size, pre).data);
    assert.deepEqual(m.data.subarray(2 * 32 * 32, 3 * 32 * 32), preprocessMask(readBusiMask(e, img.width, img.height), size, pre));
    assert.equal(readdirSync(join(out, 'calib')).length, 4);
    // and NumPy (what training uses) reads them
    const py = execFileSync('/usr/bin/python3', ['-c', `import numpy as np; a = np.load('${join(out, 'val_images.npy')}'); print(a.dtype, a.shape, int(a.sum()))`]).toString().trim();
    const v = readNpyU8(join(out, 'val_images.npy'));
    assert.equal(py, `uint8 (3, 32, 32, 3) ${v.data.reduce((s, b) => s + b, 0)}`);
  } finally {
    rmSync(data, { recursive: true });
    rmSync(out, { recursive: true });
  }
});
