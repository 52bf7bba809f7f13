import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildGraph } from '../../models/graph.js';
import { FloatReference, foldBatchNorm } from '../../models/float-reference.js';
import { asymmetricParams, CALIBRATION_METHODS, quantizeModel, TensorStats } from '../../models/quantizer.js';
import { randomFloatModel } from '../../models/random-model.js';
import { INPUT_PARAMS, SIGMOID_OUTPUT, type QModel } from '../../models/qmodel.js';
import { decodeModel, encodeModel } from '../../models/format.js';
import { createDirectEngine } from '../../host/engine/direct-executor.js';
import { createReferenceKernels } from '../../host/kernels/reference/index.js';
import { phantomCalibration } from '../../host/commands/support/model-inputs.js';
import { layerStats } from '../../models/fidelity.js';
import { importOnnx } from '../../models/onnx/import.js';
import type { FloatModel } from '../../models/float-model.js';
import { torchFixtures } from './onnx/torch-fixtures.js';

const arch = { filters: 4, height: 64, width: 64, channels: 3 };
const model = randomFloatModel(arch, 1);
const framesP = phantomCalibration(6, arch, model.preprocessing);

/** per-tensor cosine of the int8 engine (dequantized) against the float reference, on held-out frames */
async function worstCosine(q: QModel, frames: Uint8Array[], float: FloatModel = model): Promise<{ name: string; cosine: number; all: Map<string, number> }> {
  const engine = createDirectEngine(q, createReferenceKernels(), { keepTensors: true });
  const ref = new FloatReference(float);
  const stats = layerStats();
  for (const f of frames) {
    const ft = ref.run(f);
    engine.run(f);
    for (const [name, fv] of ft) stats.add(name, fv, engine.tensor!(name), q.tensors[name]);
  }
  const rows = stats.rows();
  const worst = rows.reduce((a, b) => (b.cosine < a.cosine ? b : a));
  return { name: worst.name, cosine: worst.cosine, all: new Map(rows.map((r) => [r.name, r.cosine])) };
}

test('random He-normal model with non-trivial BatchNorm, phantom-calibrated: cosine >= 0.99 at every layer (every method)', async () => {
  const frames = await framesP;
  for (const method of CALIBRATION_METHODS) {
    const q = quantizeModel(model, frames.slice(0, 4), { method, date: '2026-01-01T00:00:00Z' });
    const { name, cosine, all } = await worstCosine(q, frames.slice(4));
    assert.equal(all.size, buildGraph(arch).tensors.size, 'every tensor compared');
    assert.ok(cosine >= 0.99, `${method}: worst layer ${name} has cosine ${cosine}`);
  }
});

test('the bar: a PyTorch ONNX export (random weights, non-trivial BatchNorm), phantom-calibrated, keeps cosine >= 0.99 at every layer', async () => {
  // tests/models/onnx/fixtures/export_torch.py: torch.onnx.export of models/training/model.py, F=4, 32x32x3, opset 13
  const fx = torchFixtures().find((f) => f.name === 'torch_op13_fold')!;
  const float = importOnnx(fx.onnx);
  const frames = await phantomCalibration(10, float.arch, float.preprocessing);
  const q = quantizeModel(float, frames.slice(0, 8));
  const { name, cosine, all } = await worstCosine(q, frames.slice(8), float);
  assert.equal(all.size, buildGraph(float.arch).tensors.size);
  assert.ok(cosine >= 0.99, `worst layer ${name} has cosine ${cosine}`);
});

test('fixed and shared parameters, ranges include 0, ReLU clamps at the zero point', async () => {
  const frames = await framesP;
  const q = quantizeModel(model, frames.slice(0, 2), { date: '2026-01-01T00:00:00Z', calibration: { source: 'phantom' } });
  const g = buildGraph(arch);
  assert.deepEqual(q.tensors.input, INPUT_PARAMS);
  for (const op of g.ops) {
    if (op.kind === 'sigmoid') assert.deepEqual(q.tensors[op.output], SIGMOID_OUTPUT);
    if (op.kind === 'maxpool' || op.kind === 'upsample') assert.deepEqual(q.tensors[op.output], q.tensors[op.input]);
    if (op.kind === 'conv') {
      const p = q.ops[op.name];
      assert.equal(p.kind, 'conv');
      if (p.kind === 'conv' && op.relu) {
        assert.equal(q.tensors[op.output].zeroPoint, -128, `${op.name}: ReLU output range starts at 0`);
        assert.equal(p.actMin, -128);
      }
    }
  }
  // calibrated ranges cover what the float model produced on the calibration frames
  const ref = new FloatReference(model);
  const t = ref.run(frames[0]);
  for (const name of ['ag1.psi', 'out.logit', 'ag3.out', 'dec2.cat']) {
    const { scale, zeroPoint } = q.tensors[name];
    const v = t.get(name)!;
    const lo = scale * (-128 - zeroPoint);
    const hi = scale * (127 - zeroPoint);
    for (let i = 0; i < v.length; i += 7) assert.ok(v[i] >= lo - scale && v[i] <= hi + scale, `${name}[${i}] = ${v[i]} outside [${lo}, ${hi}]`);
  }
  const prov = (q.meta as any).provenance;
  assert.equal(prov.calibration.frames, 2);
  assert.equal(prov.calibration.source, 'phantom');
  assert.match(prov.calibration.framesSha256, /^[0-9a-f]{64}$/);
  assert.equal(prov.date, '2026-01-01T00:00:00Z');
  assert.equal(typeof prov.tool.version, 'string');
  // the file round trip keeps the quantized model exactly
  assert.deepEqual(encodeModel(decodeModel(encodeModel(q))), encodeModel(q));
});

test('BatchNorm is folded into the affine op; weights are per-channel symmetric', async () => {
  const frames = await framesP;
  const q = quantizeModel(model, frames.slice(0, 1));
  for (const name of ['ag1.bn', 'ag4.bn']) {
    const p = q.ops[name];
    assert.equal(p.kind, 'affine');
    if (p.kind !== 'affine') continue;
    const { a, b } = foldBatchNorm(model, name, p.weights.length);
    const inScale = q.tensors[name === 'ag1.bn' ? 'ag1.gated' : 'ag4.gated'].scale;
    for (let c = 0; c < a.length; c++) {
      assert.equal(Math.abs(p.weights[c]), 127, 'one weight per channel uses the full range');
      assert.ok(Math.abs(p.weights[c] * p.weightScales[c] - a[c]) <= 1e-6 * Math.abs(a[c]));
      assert.ok(Math.abs(p.bias[c] * inScale * p.weightScales[c] - b[c]) <= inScale * p.weightScales[c]);
    }
  }
  const conv = q.ops['enc3.conv2'];
  assert.equal(conv.kind, 'conv');
  if (conv.kind === 'conv') {
    const per = conv.weights.length / conv.weightScales.length;
    for (let o = 0; o < conv.weightScales.length; o++) {
      const slice = conv.weights.subarray(o * per, (o + 1) * per);
      assert.equal(Math.max(...slice.map(Math.abs)), 127, `channel ${o} uses the full int8 range`);
    }
  }
});

test('asymmetricParams widens to 0 and maps the range ends near -128 and 127', () => {
  const p = asymmetricParams(0.5, 2);
  assert.equal(p.zeroPoint, -128);
  assert.ok(Math.abs(p.scale - 2 / 255) < 1e-12);
  const n = asymmetricParams(-3, -1);
  assert.equal(n.zeroPoint, 127);
  const m = asymmetricParams(-1, 3);
  assert.equal(Math.round(-1 / m.scale) + m.zeroPoint, -128);
  assert.equal(Math.round(3 / m.scale) + m.zeroPoint, 127);
  assert.deepEqual(asymmetricParams(0, 0), { scale: 1 / 255, zeroPoint: -128 });
});

test('bad options and inputs are refused', () => {
  assert.throws(() => quantizeModel(model, []), /at least one calibration frame/);
  assert.throws(() => quantizeModel(model, [new Uint8Array(10)]), /input has 10 bytes/);
  assert.throws(() => quantizeModel(model, [new Uint8Array(64 * 64 * 3)], { method: 'x' as any }), /unknown calibration method/);
  assert.throws(() => quantizeModel(model, [new Uint8Array(64 * 64 * 3)], { method: 'percentile', percentile: 30 }), /percentile must be in/);
});

test('the calibration reservoir is a uniform sample of every value seen, across frames', () => {
  const st = new TensorStats(true, 12345);
  const N = 3_000_000;
  const frame = 250_000;
  for (let base = 0; base < N; base += frame) st.add(Float32Array.from({ length: frame }, (_, i) => (base + i) / N));
  assert.equal(st.min, 0);
  assert.equal(st.max, Math.fround((N - 1) / N));
  // a uniform sample: percentiles land where they should, and late frames are as present as early ones
  for (const p of [99, 99.9, 90]) {
    const [lo, hi] = st.percentileRange(p);
    assert.ok(Math.abs(hi - p / 100) < 0.005, `p${p} high end ${hi}`);
    assert.ok(Math.abs(lo - (1 - p / 100)) < 0.005, `p${p} low end ${lo}`);
  }
  const [lo50, hi50] = st.percentileRange(75);
  assert.ok(Math.abs(lo50 - 0.25) < 0.01 && Math.abs(hi50 - 0.75) < 0.01, `quartiles ${lo50} ${hi50}`);
});
