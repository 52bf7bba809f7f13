// `aunet export` end to end: a Keras .h5 and a PyTorch .onnx become ONNX files
// onnxruntime runs with the float reference's answer; an .aunet is refused
// with the reason; bad flags exit 2.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runFloat } from '../../models/float-reference.js';
import { importOnnxWithInfo } from '../../models/onnx/import.js';
import { randomFloatModel, syntheticFrames } from '../../models/random-model.js';
import { writeKerasH5 } from './keras-fixture.js';
import { runOrt } from './ort.js';
import { maxAbsDiff, torchFixtures } from './torch-fixtures.js';

const dir = join('test-artifacts', 'importers', `cli-${process.pid}`);
const aunet = (...args: string[]) => spawnSync(process.execPath, ['bin/aunet.js', 'export', ...args], { encoding: 'utf8', timeout: 60_000 });

describe('aunet export', () => {
  before(() => mkdirSync(dir, { recursive: true }));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('--from model.h5 --layout NHWC writes an ONNX model onnxruntime runs like the float reference', async () => {
    const source = randomFloatModel({ filters: 2, height: 32, width: 32, channels: 1 }, 8);
    await writeKerasH5(join(dir, 'study.h5'), source);
    const out = join(dir, 'study.onnx');
    const r = aunet('--from', join(dir, 'study.h5'), '--onnx', out, '--layout', 'NHWC');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /F=2 32x32x1 \(Keras HDF5\)/);
    assert.match(r.stdout, /input 'input' float32 \[1, 32, 32, 1\]/);
    const px = syntheticFrames(source.arch, 1)[0];
    const ort = await runOrt(out, px, source.arch, 'NHWC');
    assert.ok(maxAbsDiff(ort.prob, runFloat(source, px).get('prob')!) < 1e-5);
  });

  it('--from a PyTorch export with folded BatchNorm keeps its pads and statistics', () => {
    const f = torchFixtures().find((x) => x.kind === 'kerasPad')!;
    const out = join(dir, 'torch.onnx');
    const r = aunet('--from', f.onnx, '--onnx', out, '--fold-batchnorm', '--opset', '11');
    assert.equal(r.status, 0, r.stderr);
    const { model, info } = importOnnxWithInfo(out);
    assert.equal(info.batchNormForm, 'Mul+Add');
    assert.equal(info.opset, 11);
    assert.deepEqual(model.convs['ag1.s'].pads, [0, 0, 1, 1]);
  });

  it('refuses an .aunet: the float weights are gone', () => {
    writeFileSync(join(dir, 'm.aunet'), Buffer.from('\x89AUNET\r\n0000', 'latin1'));
    const r = aunet('--from', join(dir, 'm.aunet'), '--onnx', join(dir, 'x.onnx'));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /m\.aunet: an \.aunet model holds only the int8 weights: the float weights an ONNX export needs are gone/);
  });

  it('bad flags exit 2 with the flag named', () => {
    const r = aunet('--from', 'x.onnx', '--onnx', 'y.onnx', '--layout', 'CHW');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--layout must be NCHW or NHWC/);
    const s = aunet('--from', 'x.onnx', '--onnx', 'y.onnx', '--input-size', '256');
    assert.equal(s.status, 2);
    assert.match(s.stderr, /--input-size must be HEIGHTxWIDTH/);
  });
});
