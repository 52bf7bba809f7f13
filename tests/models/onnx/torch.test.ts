// PyTorch exports of the project's Attention U-Net (random weights, non-trivial
// BatchNorm statistics; opset 9/11/13; with and without constant folding;
// PyTorch and Keras-style stride-2 padding) import, and the float reference on
// the imported model gives what torch and onnxruntime give on the same input.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runFloat } from '../../../models/float-reference.js';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { importOnnx, importOnnxWithInfo } from '../../../models/onnx/import.js';
import { runOrt } from './ort.js';
import { maxAbsDiff, nchwToNhwc, torchFixtures } from './torch-fixtures.js';

const fixtures = torchFixtures();
const TOL = 1e-5;

describe('ONNX import of PyTorch exports', () => {
  it('covers the exporter variants the importer must accept', () => {
    const names = fixtures.map((f) => `${f.opset}/${f.constantFolding}/${f.kind}`);
    for (const want of ['13/true/plain', '13/false/plain', '11/true/plain', '11/false/plain', '9/true/plain', '17/true/plain', '13/true/kerasPad', '13/true/attn', '11/true/dynamic', '13/false/dynamic']) {
      assert.ok(names.includes(want), `fixture ${want} missing (have ${names.join(', ')})`);
    }
  });

  for (const f of fixtures) {
    it(`${f.name}: imports with the graph's F, size, channels and pads, and matches torch and onnxruntime`, async () => {
      if (f.kind === 'dynamic') {
        assert.throws(() => importOnnxWithInfo(f.onnx), /input 'image' has a symbolic height; give the input size/);
      }
      const size = f.kind === 'dynamic' ? { height: f.size, width: f.size } : {};
      const { model, info } = importOnnxWithInfo(f.onnx, size);
      assert.deepEqual(model.arch, { filters: f.filters, height: f.size, width: f.size, channels: f.channels });
      assert.equal(info.inputLayout, 'NCHW');
      assert.equal(info.opset, f.opset);
      assert.equal(info.batchNormForm, 'BatchNormalization');
      assert.equal(model.source?.format, 'onnx');
      assert.match(model.source?.sha256 ?? '', /^[0-9a-f]{64}$/);
      assert.deepEqual(model.convs['ag1.s'].pads, f.padsStride2);
      assert.deepEqual(model.convs['enc1.conv1'].pads, [1, 1, 1, 1]);
      assert.deepEqual(model.convs['out.conv'].pads, [0, 0, 0, 0]);
      assert.equal(model.batchNorms['ag2.bn'].epsilon.toFixed(6), '0.001000');
      assert.ok(model.batchNorms['ag2.bn'].variance.some((v) => Math.abs(v - 1) > 0.1), 'BatchNorm statistics are the non-trivial ones');

      const pixels = nchwToNhwc(f.pixels, f.channels, f.size, f.size);
      const ours = runFloat(model, pixels).get('prob')!;
      const vsTorch = maxAbsDiff(ours, f.output);
      assert.ok(vsTorch < TOL, `float reference vs torch: max abs ${vsTorch}`);
      const ort = await runOrt(f.onnx, pixels, model.arch, 'NCHW');
      const vsOrt = maxAbsDiff(ours, ort.prob);
      assert.ok(vsOrt < TOL, `float reference vs onnxruntime: max abs ${vsOrt}`);
      if (f.kind === 'attn') assert.deepEqual(Object.keys(ort).sort(), ['a1', 'a2', 'a3', 'a4', 'prob']);
    });
  }

  it('a model with symbolic height and width imports at any size and still matches onnxruntime', async () => {
    const f = fixtures.find((x) => x.kind === 'dynamic')!;
    const model = importOnnxWithInfo(f.onnx, { height: 64, width: 48 }).model;
    assert.deepEqual(model.arch, { filters: f.filters, height: 64, width: 48, channels: f.channels });
    const pixels = Uint8Array.from({ length: 64 * 48 * f.channels }, (_, i) => (i * 37) % 256);
    const ort = await runOrt(f.onnx, pixels, model.arch, 'NCHW');
    const d = maxAbsDiff(runFloat(model, pixels).get('prob')!, ort.prob);
    assert.ok(d < TOL, `max abs ${d}`);
  });

  it('a file onnxruntime optimised at level basic (shared constants) imports to the same model; level extended is refused by name', async () => {
    const f = fixtures.find((x) => x.name === 'torch_op13_nofold')!;
    const dir = join('test-artifacts', 'importers', `ort-opt-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    try {
      for (const level of ['basic', 'extended'] as const) {
        const out = join(dir, `${level}.onnx`);
        const s = await ort.InferenceSession.create(f.onnx, { graphOptimizationLevel: level, optimizedModelFilePath: out, logSeverityLevel: 3 });
        await s.release();
        if (level === 'basic') assert.deepEqual(importOnnx(out), { ...importOnnx(f.onnx), source: importOnnx(out).source });
        else assert.throws(() => importOnnx(out), /\(com\.microsoft\.FusedConv\) is not a standard ONNX op/);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("keeps each conv's own pads: the Keras-padded export run with PyTorch pads no longer matches", () => {
    const f = fixtures.find((x) => x.kind === 'kerasPad')!;
    const { model } = importOnnxWithInfo(f.onnx);
    const pixels = nchwToNhwc(f.pixels, f.channels, f.size, f.size);
    for (const g of [1, 2, 3, 4]) model.convs[`ag${g}.s`].pads = [1, 1, 1, 1];
    const wrong = maxAbsDiff(runFloat(model, pixels).get('prob')!, f.output);
    assert.ok(wrong > 100 * TOL, `padding should matter: max abs ${wrong}`);
  });
});
