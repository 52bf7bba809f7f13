// The study's Keras HDF5 layout (built here with h5wasm, see keras-fixture.ts)
// imports to exactly the weights it was written from, runs in the float
// reference like the source model, exports to ONNX that onnxruntime agrees
// with, and a file missing a layer or dataset is refused naming it.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FileError } from '../../../common/errors.js';
import { runFloat } from '../../../models/float-reference.js';
import { importKeras, KERAS_BN_EPSILON } from '../../../models/keras/import.js';
import { exportOnnx } from '../../../models/onnx/export.js';
import { prng, randomFloatModel, syntheticFrames } from '../../../models/random-model.js';
import { writeKerasH5 } from './keras-fixture.js';
import { runOrt } from '../onnx/ort.js';
import { maxAbsDiff } from '../onnx/torch-fixtures.js';

const dir = join('test-artifacts', 'importers', `keras-${process.pid}`);
const arch = { filters: 4, height: 48, width: 32, channels: 3 };
const source = randomFloatModel(arch, 31);
const path = (name: string) => join(dir, name);

async function refuses(file: string, ...patterns: RegExp[]) {
  await assert.rejects(importKeras(file), (e: unknown) => {
    assert.ok(e instanceof FileError, `expected FileError, got ${String(e)}`);
    assert.equal(e.file, file);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
}

describe('Keras HDF5 import', () => {
  before(async () => {
    mkdirSync(dir, { recursive: true });
    await writeKerasH5(path('study.h5'), source);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads F, channels and input size, and every weight exactly (HWIO -> OHWI, BatchNorm statistics)', async () => {
    const m = await importKeras(path('study.h5'));
    assert.deepEqual(m.arch, arch);
    assert.equal(m.source?.format, 'keras-h5');
    for (const [name, c] of Object.entries(source.convs)) {
      assert.deepEqual(m.convs[name].weights, c.weights, name);
      assert.deepEqual(m.convs[name].bias, c.bias, name);
    }
    for (const [name, bn] of Object.entries(source.batchNorms)) {
      assert.deepEqual({ ...m.batchNorms[name], epsilon: 0 }, { ...bn, epsilon: 0 }, name);
      assert.equal(m.batchNorms[name].epsilon, KERAS_BN_EPSILON);
    }
    assert.deepEqual(m.convs['ag1.s'].pads, [0, 0, 1, 1], "Keras 'same' at stride 2 pads bottom/right");
    assert.deepEqual(m.convs['dec2.conv1'].pads, [1, 1, 1, 1]);
  });

  it('runs in the float reference like the source, and its ONNX export agrees in onnxruntime', async () => {
    const m = await importKeras(path('study.h5'));
    const px = syntheticFrames(arch, 1, 9)[0];
    const want = runFloat(source, px).get('prob')!;
    const got = runFloat(m, px).get('prob')!;
    assert.ok(maxAbsDiff(got, want) < 1e-6);
    const ort = await runOrt(exportOnnx(m, { layout: 'NHWC' }), px, arch, 'NHWC');
    assert.ok(maxAbsDiff(ort.prob, got) < 1e-5);
  });

  it("finds the output layer whatever the session named it (conv2d, conv2d_30)", async () => {
    await writeKerasH5(path('named.h5'), source, { outputLayer: 'conv2d' });
    const m = await importKeras(path('named.h5'));
    assert.deepEqual(m.convs['out.conv'].weights, source.convs['out.conv'].weights);
  });

  it('a gate built with bn=False imports as an identity BatchNorm', async () => {
    await writeKerasH5(path('nobn.h5'), source, { noBatchNorm: true });
    const m = await importKeras(path('nobn.h5'));
    const bn = m.batchNorms['ag3.bn'];
    assert.ok(bn.gamma.every((g) => g === 1) && bn.beta.every((b) => b === 0) && bn.variance.every((v) => v === 1) && bn.epsilon === 0);
  });

  it('a weights-only file needs the input size given', async () => {
    await writeKerasH5(path('noconfig.h5'), source, { noConfig: true });
    await refuses(path('noconfig.h5'), /no model_config with the input shape/);
    const m = await importKeras(path('noconfig.h5'), { height: 64, width: 64 });
    assert.deepEqual(m.arch, { ...arch, height: 64, width: 64 });
  });

  it('refuses a missing layer, naming it', async () => {
    await writeKerasH5(path('nolayer.h5'), source, { dropLayer: 'Attention3' });
    await refuses(path('nolayer.h5'), /model_weights has no layer 'Attention3'/);
  });

  it('refuses a missing dataset, naming its path', async () => {
    await writeKerasH5(path('nodata.h5'), source, { dropDataset: 'Decoder2/encoder_block_1/conv2d_19/bias:0' });
    await refuses(path('nodata.h5'), /dataset model_weights\/Decoder2\/Decoder2\/encoder_block_1\/conv2d_19\/bias:0 is missing/);
  });

  it('refuses weights of another architecture, naming the dataset and both shapes', async () => {
    await writeKerasH5(path('shape.h5'), source, {
      replace: { 'Encoder3/conv2d_4/kernel:0': { shape: [3, 3, 8, 8], data: new Float32Array(3 * 3 * 8 * 8) } },
    });
    await refuses(path('shape.h5'), /model_weights\/Encoder3\/Encoder3\/conv2d_4\/kernel:0 has shape \[3,3,8,8\], but enc3\.conv1 needs \[3,3,8,16\]/);
  });

  it('a corrupted file (a byte changed, or cut short) imports or is a FileError, never a crash', async () => {
    const small = randomFloatModel({ filters: 1, height: 16, width: 16, channels: 1 }, 2);
    await writeKerasH5(path('small.h5'), small);
    const good = readFileSync(path('small.h5'));
    const rand = prng(7);
    let refused = 0;
    for (let i = 0; i < 50; i++) {
      const b = Buffer.from(good);
      b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
      writeFileSync(path('bad.h5'), i % 5 === 0 ? b.subarray(0, Math.floor(rand() * b.length)) : b);
      try {
        await importKeras(path('bad.h5'));
      } catch (e) {
        if (!(e instanceof FileError)) throw new Error(`mutation ${i}: ${(e as Error).stack}`);
        refused++;
      }
    }
    assert.ok(refused > 10, `only ${refused} of 50 corruptions refused`);
  });

  it('refuses a file that is not HDF5 and one that is not there', async () => {
    writeFileSync(path('text.h5'), 'not hdf5');
    await refuses(path('text.h5'), /neither an HDF5 file \(model.save .h5\) nor a Keras 3 .keras archive/);
    await refuses(path('missing.h5'), /missing\.h5: not found/);
  });
});
