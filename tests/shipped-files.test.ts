// Shipped files name no path of the machine that built them: provenance in
// model headers, run records and firmware images is a path inside the package or
// a file name with its hash (common/provenance.ts). Scans every tracked file
// under models/ (models, run records, recipes, the split) byte for byte, since
// an .aunet header is JSON inside a binary file (a firmware image carries the
// shipped model's bytes as they are).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readModel } from '../models/format.js';

/** An absolute path of a Unix or Windows build machine: /work/..., /tmp/..., /home/..., /root/..., /Users/..., C:\... */
const ABSOLUTE = /(?<![\w.~-])\/(?:work|tmp|home|root|Users|var|opt|mnt|srv)\/[\w.-]|[A-Z]:\\\\?[\w.-]+\\/;

test('no tracked file under models/ names an absolute path', () => {
  const files = execFileSync('git', ['ls-files', 'models'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  assert.ok(files.includes('models/busi-lite.aunet') && files.includes('models/busi-lite.onnx'), 'the shipped int8 model and its float source are tracked');
  const offenders = files.filter((f) => ABSOLUTE.test(readFileSync(f).toString('latin1')));
  assert.deepEqual(offenders, []);
});

test('the pattern finds what it must', () => {
  for (const p of ['{"file":"/work/wt-3/models/x.onnx"}', 'dir: /tmp/calib', '"C:\\\\Users\\\\me\\\\m.onnx"', '/home/ci/busi']) assert.ok(ABSOLUTE.test(p), p);
  for (const p of ['models/busi-lite.onnx', '../shared/data/busi', 'docs/work/x', 'http://example.org/home/x']) assert.ok(!ABSOLUTE.test(p), p);
});

test('the shipped int8 model names its float source, which ships beside it (export, compare, re-quantize from a clone)', () => {
  const q = readModel('models/busi-lite.aunet');
  const source = (q.meta as { provenance: { source: { file: string; sha256: string } } }).provenance.source;
  assert.equal(source.file, 'models/busi-lite.onnx');
  assert.equal(source.sha256, createHash('sha256').update(readFileSync('models/busi-lite.onnx')).digest('hex'));
  const decision = (q.meta as { decision?: { threshold: number; calibration: { split: string } } }).decision;
  assert.ok(decision && decision.threshold >= 0.5, 'a calibrated lesion-present threshold');
  assert.equal(decision.calibration.split, 'val', 'chosen on val, never on the test split the figures come from');
});
