import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assignSplits, readSplitManifest, type GroupedImage } from '../../../models/datasets/split.js';
import { listBusi, filterSplit } from '../../../models/datasets/busi.js';
import { makeDataset, splitOf } from './synthetic-busi.js';

const image = (name: string, group: number): GroupedImage => ({ name, cls: name.split(' ')[0], sha256: `h-${name}`, group });

test('twin groups stay on one side; groups whose labels disagree are excluded; fractions per class in images', () => {
  const imgs: GroupedImage[] = [];
  for (let i = 1; i <= 40; i++) imgs.push(image(`benign (${i}).png`, i <= 12 ? Math.ceil(i / 3) : 100 + i)); // 4 groups of three
  for (let i = 1; i <= 20; i++) imgs.push(image(`normal (${i}).png`, 200 + i));
  imgs.push(image('malignant (1).png', 1)); // a benign-malignant twin: the whole group 1 goes
  const m = assignSplits(imgs, { test: 'unit' });
  assert.equal(m.images['malignant (1).png'].split, 'excluded');
  for (const n of ['benign (1).png', 'benign (2).png', 'benign (3).png']) {
    assert.equal(m.images[n].split, 'excluded');
    assert.match(m.images[n].reason!, /benign and malignant/);
  }
  for (const g of [2, 3, 4]) {
    const sides = new Set([1, 2, 3].map((k) => m.images[`benign (${(g - 1) * 3 + k}).png`].split));
    assert.equal(sides.size, 1, `group ${g} on one side`);
  }
  // 37 benign left: test round(7.4) = 7 (a group of three may overshoot by 2), val round(5.55) = 6
  assert.ok(m.counts.test.benign >= 7 && m.counts.test.benign <= 9, String(m.counts.test.benign));
  assert.ok(m.counts.val.benign >= 6 && m.counts.val.benign <= 8, String(m.counts.val.benign));
  assert.equal(m.counts.test.normal, 4);
  assert.equal(m.counts.val.normal, 3);
  assert.equal(m.counts.train.normal, 13);
  assert.equal(m.groups.length, 4, 'twin groups listed (singletons are not)');
  // placement depends on names only: shuffled input, same manifest
  assert.deepEqual(assignSplits([...imgs].reverse(), { test: 'unit' }), m);
});

test('listBusi takes each split from the manifest, refuses a different file under a listed name, marks others unlisted', () => {
  const data = makeDataset(5);
  try {
    const manifest = splitOf(data);
    const all = listBusi(data, manifest);
    assert.equal(filterSplit(all, 'test').length, 3);
    assert.equal(filterSplit(all, 'val').length, 3);
    assert.equal(filterSplit(all, 'train').length, 9);
    assert.ok(listBusi(data).every((e) => e.split === 'unlisted'), 'no manifest: nothing is in a split');
    const fewer = { ...manifest, images: { ...manifest.images } };
    delete fewer.images['normal (5).png'];
    assert.equal(listBusi(data, fewer).find((e) => e.name === 'normal (5).png')!.split, 'unlisted');
    // the shipped split belongs to the project's BUSI folder, not to this one
    assert.throws(() => listBusi(data, readSplitManifest(), 'busi-split.json'), (e: Error & { code?: string }) => e.code === 'BAD_DATASET' && /benign \(1\)\.png: is not the image busi-split\.json lists/.test(e.message));
  } finally {
    rmSync(data, { recursive: true });
  }
});

test('readSplitManifest names the file and the problem', () => {
  const dir = mkdtempSync(join(tmpdir(), 'split-'));
  try {
    assert.throws(() => readSplitManifest(join(dir, 'none.json')), /none\.json: cannot read the split file/);
    writeFileSync(join(dir, 'x.json'), '{"format": "other"}');
    assert.throws(() => readSplitManifest(join(dir, 'x.json')), /x\.json: not a split file \(format 'other'/);
    writeFileSync(join(dir, 'y.json'), JSON.stringify({ format: 'aunet-busi-split/1', images: { 'a.png': { split: 'holdout', sha256: 'x' } } }));
    assert.throws(() => readSplitManifest(join(dir, 'y.json')), /image 'a\.png': split 'holdout'/);
  } finally {
    rmSync(dir, { recursive: true });
  }
});
