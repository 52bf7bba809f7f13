// exportOnnx writes a model onnxruntime runs with the float reference's
// answer, in NCHW and NHWC, BatchNorm as a node or folded; importOnnx reads
// it back identically; an NHWC graph shaped like tf2onnx's output imports too.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FloatModel } from '../../../models/float-model.js';
import { runFloat } from '../../../models/float-reference.js';
import { exportOnnx } from '../../../models/onnx/export.js';
import { importOnnx, importOnnxWithInfo } from '../../../models/onnx/import.js';
import { onnx } from '../../../models/onnx/proto.js';
import { randomFloatModel, syntheticFrames } from '../../../models/random-model.js';
import { runOrt } from './ort.js';
import { maxAbsDiff } from './torch-fixtures.js';
import { tf2onnxLike } from './tf2onnx-like.js';

const arch = { filters: 4, height: 32, width: 48, channels: 3 };
const model = randomFloatModel(arch, 11);
// PyTorch-style pads on two convs, so the round trip must carry per-conv pads
model.convs['ag2.s'].pads = [1, 1, 1, 1];
model.convs['enc3.conv1'].pads = [1, 1, 1, 1];
const pixels = syntheticFrames(arch, 1, 3)[0];
const ref = runFloat(model, pixels);
const TOL = 1e-5;

function assertSameModel(a: FloatModel, b: FloatModel, exactBn: boolean) {
  assert.deepEqual(b.arch, a.arch);
  assert.deepEqual(Object.keys(b.convs).sort(), Object.keys(a.convs).sort());
  for (const [name, c] of Object.entries(a.convs)) {
    assert.deepEqual(b.convs[name].weights, c.weights, `${name} weights`);
    assert.deepEqual(b.convs[name].bias, c.bias, `${name} bias`);
    assert.deepEqual(b.convs[name].pads, c.pads ?? [...defaultPads(name)], `${name} pads`);
  }
  if (exactBn) assert.deepEqual(b.batchNorms, a.batchNorms);
}

function defaultPads(name: string) {
  if (name.endsWith('.psi') || name === 'out.conv') return [0, 0, 0, 0];
  return /^ag\d\.s$/.test(name) ? [0, 0, 1, 1] : [1, 1, 1, 1];
}

describe('ONNX export', () => {
  for (const options of [
    { layout: 'NCHW' as const },
    { layout: 'NHWC' as const },
    { layout: 'NCHW' as const, foldBatchNorm: true, opset: 11 },
    { layout: 'NHWC' as const, foldBatchNorm: true, attentionOutputs: true, opset: 17 },
  ]) {
    it(`${JSON.stringify(options)}: onnxruntime gives the float reference's outputs, and it imports back`, async () => {
      const bytes = exportOnnx(model, options);
      const out = await runOrt(bytes, pixels, arch, options.layout);
      const d = maxAbsDiff(out.prob, ref.get('prob')!);
      assert.ok(d < TOL, `prob: max abs ${d}`);
      if (options.attentionOutputs) {
        for (const a of ['a1', 'a2', 'a3', 'a4']) assert.ok(maxAbsDiff(out[a], ref.get(a)!) < TOL, a);
      }
      const { model: back, info } = importOnnxWithInfo(bytes);
      assert.equal(info.inputLayout, options.layout);
      assert.equal(info.batchNormForm, options.foldBatchNorm ? 'Mul+Add' : 'BatchNormalization');
      assertSameModel(model, back, !options.foldBatchNorm);
      const d2 = maxAbsDiff(runFloat(back, pixels).get('prob')!, ref.get('prob')!);
      assert.ok(d2 < TOL, `re-imported: max abs ${d2}`);
    });
  }

  it('onnxruntime-web (wasm, what `aunet bench --vs onnxruntime-web` runs) gives the same answer', async () => {
    const ortWeb = await import('onnxruntime-web');
    ortWeb.env.wasm.numThreads = 1;
    ortWeb.env.logLevel = 'error';
    const session = await ortWeb.InferenceSession.create(exportOnnx(model, { layout: 'NHWC' }), { executionProviders: ['wasm'] });
    try {
      const x = Float32Array.from(pixels, (p) => p / 255);
      const out = await session.run({ input: new ortWeb.Tensor('float32', x, [1, arch.height, arch.width, arch.channels]) });
      const d = maxAbsDiff(out.prob.data as Float32Array, ref.get('prob')!);
      assert.ok(d < TOL, `max abs ${d}`);
    } finally {
      await session.release();
    }
  });

  it('round trip FloatModel -> exportOnnx -> importOnnx is identical (weights, biases, pads, BatchNorm statistics)', () => {
    const back = importOnnx(exportOnnx(model));
    assertSameModel(model, back, true);
    assert.deepEqual(exportOnnx(back), exportOnnx(importOnnx(exportOnnx(back))), 'a second round trip writes the same bytes');
  });

  it('imports an export that lists its initializers as graph inputs (keep_initializers_as_inputs)', () => {
    const m = onnx.ModelProto.decode(exportOnnx(model));
    const g = m.graph!;
    for (const t of g.initializer ?? []) {
      g.input!.push(onnx.ValueInfoProto.create({ name: t.name, type: { tensorType: { elemType: 1, shape: { dim: (t.dims ?? []).map((d) => ({ dimValue: d })) } } } }));
    }
    assertSameModel(model, importOnnx(onnx.ModelProto.encode(m).finish()), true);
  });

  it('refuses an opset it does not write', () => {
    assert.throws(() => exportOnnx(model, { opset: 9 }), /opset must be 11\.\.18/);
  });
});

describe('ONNX import of a tf2onnx-shaped NHWC graph', () => {
  const keras = randomFloatModel({ filters: 4, height: 32, width: 32, channels: 1 }, 21);
  const bytes = tf2onnxLike(keras);
  const px = syntheticFrames(keras.arch, 1, 5)[0];

  it('imports through the Transposes with Keras pads and the gate BatchNorm as Mul/Add', () => {
    const { model: m, info } = importOnnxWithInfo(bytes);
    assert.equal(info.inputLayout, 'NHWC');
    assert.equal(info.inputName, 'input_1');
    assert.equal(info.batchNormForm, 'Mul+Add');
    assertSameModel(keras, m, false);
    assert.deepEqual(m.convs['ag4.s'].pads, [0, 0, 1, 1]);
  });

  it('with the BatchNorm as a node between Transposes, ReLU as Clip(min 0), unfused BiasAdd: same weights, raw statistics', async () => {
    const other = tf2onnxLike(keras, { batchNormNode: true, clipRelu: true, biasAdd: true });
    const { model: m, info } = importOnnxWithInfo(other);
    assert.equal(info.batchNormForm, 'BatchNormalization');
    assertSameModel(keras, m, true);
    const out = await runOrt(other, px, keras.arch, 'NHWC');
    assert.ok(maxAbsDiff(runFloat(m, px).get('prob')!, out.conv2d_30) < TOL);
  });

  it('matches onnxruntime on the same graph', async () => {
    const m = importOnnx(bytes);
    const out = await runOrt(bytes, px, keras.arch, 'NHWC');
    const d = maxAbsDiff(runFloat(m, px).get('prob')!, out.conv2d_30);
    assert.ok(d < TOL, `max abs ${d}`);
  });
});
