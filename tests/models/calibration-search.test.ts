// Cross-layer equalisation is exact in float; the output-driven search never
// does worse on its own frames than the best whole-model method, records what
// it chose, and produces a valid model the engines run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runFloat } from '../../models/float-reference.js';
import { buildGraph } from '../../models/graph.js';
import { equalizableTensors, equalizeModel, equalizingFactors, scaleChannels, MAX_GAIN } from '../../models/equalize.js';
import { autoQuantize, type Int8Probe } from '../../models/calibration-search.js';
import { collectStats } from '../../models/quantizer.js';
import { randomFloatModel, syntheticFrames } from '../../models/random-model.js';
import { validateQModel } from '../../models/qmodel-check.js';
import { createDirectEngine } from '../../host/engine/direct-executor.js';
import { createReferenceKernels } from '../../host/kernels/reference/index.js';

const arch = { filters: 4, height: 32, width: 32, channels: 1 };
const model = randomFloatModel(arch, 5);
const frames = syntheticFrames(arch, 6, 3);

function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(a[i])));
  return m;
}

test('equalising any rescalable tensor leaves every float tensor that is not rescaled unchanged', () => {
  const g = buildGraph(arch);
  const names = equalizableTensors(g);
  // conv outputs that feed no add, and the four gates' BatchNorm outputs
  for (const n of ['enc1.conv1', 'c1', 'c4', 'encoding', 'd1', 'd4', 'ag1.out', 'ag4.out']) assert.ok(names.includes(n), n);
  for (const n of ['ag1.x', 'ag1.s', 'ag1.psi', 'out.conv']) assert.ok(!names.includes(n), `${n} cannot be rescaled`);
  const before = runFloat(model, frames[0]);
  for (const name of names) {
    const c = g.tensors.get(name)!.c;
    const s = Float32Array.from({ length: c }, (_, i) => 0.25 + (i % 5));
    const after = runFloat(scaleChannels(model, name, s), frames[0]);
    for (const t of ['prob', 'a1', 'a2', 'a3', 'a4', 'ag2.out', 'dec3.conv1']) {
      if (t === name) continue;
      assert.ok(maxDiff(before.get(t)!, after.get(t)!) < 1e-4, `scaling ${name} changed ${t}`);
    }
    const got = after.get(name)!;
    const want = before.get(name)!;
    for (let k = 0; k < Math.min(64, got.length); k++) assert.ok(Math.abs(got[k] - want[k] * s[k % c]) <= 1e-4 * Math.max(1, Math.abs(want[k] * s[k % c])), `${name}[${k}] is scaled by its channel factor`);
  }
  assert.throws(() => scaleChannels(model, 'ag1.x', new Float32Array(16).fill(2)), /is read by add/);
  assert.throws(() => scaleChannels(model, 'c1', new Float32Array(4).fill(-1)), /must be positive/);
});

test('equalising factors: (R / r)^strength, capped, dead channels untouched; the equalised model computes the same output', () => {
  assert.deepEqual([...equalizingFactors(Float32Array.from([4, 1, 0, 1e-6]), 0.5)], [1, 2, 1, MAX_GAIN]);
  const stats = collectStats(model, frames);
  const { model: eq, tensors } = equalizeModel(model, stats.channelMax, 1);
  assert.ok(tensors.length > 10);
  assert.ok(maxDiff(runFloat(model, frames[1]).get('prob')!, runFloat(eq, frames[1]).get('prob')!) < 1e-4);
  // strength 1 brings every channel of a gate output to the same largest value
  const r = collectStats(eq, frames).channelMax.get('ag2.out')!;
  const R = Math.max(...r);
  for (const v of r) if (v > 0) assert.ok(v > R * 0.999 || v * MAX_GAIN < R * 1.001, `${v} vs ${R}`);
});

test('auto calibration: at least as close to float as the best whole-model method on its frames; choice recorded', async () => {
  let runs = 0;
  const probe: Int8Probe = async (q, fs) => {
    runs++;
    const e = createDirectEngine(q, createReferenceKernels());
    return fs.map((f) => e.run(f).prob.data);
  };
  const { model: q, record } = await autoQuantize(model, frames, probe, { date: '2026-01-01T00:00:00Z' });
  validateQModel(q);
  assert.equal(record.evaluations, runs);
  const best = Math.min(record.objective.minmax, record.objective.percentile, record.objective.mse);
  assert.ok(record.objective.start <= best + 1e-9);
  assert.ok(record.objective.end <= record.objective.start);
  assert.ok([0, 0.5, 1].includes(record.equalize));
  const cal = (q.meta as { provenance: { calibration: Record<string, unknown> } }).provenance.calibration;
  assert.equal(cal.method, 'auto');
  assert.equal(cal.frames, frames.length);
  assert.deepEqual(cal.changed, record.changed);
});
