// exportQdqOnnx: the int8 peer model. It carries our int8 weights and calibrated scales as
// QDQ pairs (one per conv weight and bias, one per activation, no ReLU left where the uint8
// clamp does its work), onnxruntime fuses every conv into its int8 QLinearConv, and its
// probabilities stay within a few int8 steps of our runtime's.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { buildGraph, convOps } from '../../../models/graph.js';
import { exportQdqOnnx } from '../../../models/onnx/qdq.js';
import { onnx } from '../../../models/onnx/proto.js';
import { quantizeModel } from '../../../models/quantizer.js';
import { randomFloatModel, syntheticFrames } from '../../../models/random-model.js';
import { createDirectEngine } from '../../../host/engine/direct-executor.js';
import { createReferenceKernels } from '../../../host/kernels/reference/index.js';
import { runOrt } from './ort.js';

const arch = { filters: 4, height: 32, width: 48, channels: 3 };
const float = randomFloatModel(arch, 21);
const q = quantizeModel(float, syntheticFrames(arch, 2, 1));
const bytes = exportQdqOnnx(float, q);
const g = buildGraph(arch);
const count = (nodes: { opType?: string | null; domain?: string | null }[]) => {
  const c = new Map<string, number>();
  for (const n of nodes) c.set(n.opType!, (c.get(n.opType!) ?? 0) + 1);
  return c;
};

test('QDQ graph: int8 weights per channel, a Q/DQ pair per activation, ReLUs folded into the uint8 clamp', () => {
  const m = onnx.ModelProto.decode(bytes);
  const c = count(m.graph!.node!);
  const convs = convOps(g);
  assert.equal(c.get('Conv'), convs.length);
  assert.equal(c.get('Relu') ?? 0, 0, 'every ReLU conv clamps at its zero point here');
  const gates = g.ops.filter((op) => op.kind === 'gatemul').length;
  // activations: every graph tensor (the input included) and each gate's upsampled map
  assert.equal(c.get('QuantizeLinear'), g.tensors.size + gates);
  assert.equal(c.get('DequantizeLinear'), g.tensors.size + gates + 2 * convs.length);
  const w = m.graph!.initializer!.find((t) => t.name === 'enc1.conv1.weight.q')!;
  assert.equal(w.dataType, onnx.TensorProto.DataType.INT8);
  assert.deepEqual(w.dims!.map(Number), [4, 3, 3, 3]);
  const zp = m.graph!.initializer!.find((t) => t.name === 'enc1.conv1.zp')!;
  assert.equal(zp.dataType, onnx.TensorProto.DataType.UINT8);
  assert.equal(zp.rawData![0], q.tensors['enc1.conv1'].zeroPoint + 128);
});

test('onnxruntime runs every conv of the QDQ model as QLinearConv, within a few int8 steps of our runtime', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'aunet-qdq-'));
  try {
    const optimized = join(dir, 'optimized.onnx');
    const s = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all', optimizedModelFilePath: optimized, logSeverityLevel: 3 });
    await s.release();
    const c = count(onnx.ModelProto.decode(readFileSync(optimized)).graph!.node!);
    assert.equal(c.get('QLinearConv'), convOps(g).length, `optimized ops: ${[...c].map(([k, v]) => `${k} ${v}`).join(', ')}`);
    assert.equal(c.get('Conv') ?? 0, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const frame = syntheticFrames(arch, 1, 7)[0];
  const peer = (await runOrt(bytes, frame, arch, 'NCHW')).prob;
  const ours = createDirectEngine(q, createReferenceKernels()).run(frame).prob.data;
  let worst = 0, agree = 0;
  for (let i = 0; i < peer.length; i++) {
    worst = Math.max(worst, Math.abs(peer[i] - ours[i] / 256));
    if ((peer[i] > 0.5) === (ours[i] > 128)) agree++;
  }
  assert.ok(worst <= 8 / 256, `max |probability difference| ${worst.toFixed(4)} > 8/256`);
  assert.ok(agree / peer.length >= 0.98, `masks agree on ${(100 * agree / peer.length).toFixed(1)} % of pixels`);
});
