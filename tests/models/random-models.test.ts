import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildGraph, convOps, type Arch } from '../../models/graph.js';
import { randomFloatModel, syntheticFrames } from '../../models/random-model.js';
import { randomQModel } from '../../models/random-qmodel.js';
import { validateQModel } from '../../models/qmodel-check.js';
import type { QConv } from '../../models/qmodel.js';

const arch: Arch = { filters: 4, height: 32, width: 32, channels: 3 };

test('random float model: deterministic, He-normal spread, non-trivial BatchNorm', () => {
  const a = randomFloatModel(arch, 3);
  const b = randomFloatModel(arch, 3);
  const c = randomFloatModel(arch, 4);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.convs['enc1.conv1'].weights, c.convs['enc1.conv1'].weights);
  for (const op of convOps(buildGraph(arch))) {
    const w = a.convs[op.name].weights;
    assert.equal(w.length, op.cout * op.k * op.k * op.cin);
    if (w.length < 500) continue; // too few samples for a spread check
    const mean = w.reduce((s, v) => s + v, 0) / w.length;
    const std = Math.sqrt(w.reduce((s, v) => s + (v - mean) ** 2, 0) / w.length);
    const want = Math.sqrt(2 / (op.k * op.k * op.cin));
    assert.ok(Math.abs(std / want - 1) < 0.1, `${op.name}: std ${std}, He-normal ${want}`);
    assert.ok(Math.max(...w.map(Math.abs)) <= 2 * want / 0.87962566103423978 + 1e-6, `${op.name}: truncated at 2 std`);
  }
  const bn = a.batchNorms['ag2.bn'];
  assert.equal(bn.gamma.length, 8 * arch.filters / 2);
  for (const arr of [bn.gamma, bn.beta, bn.mean, bn.variance]) assert.ok(new Set(arr).size > 1, 'BatchNorm statistics vary per channel');
  assert.ok(bn.gamma.every((g) => g !== 1) && bn.variance.every((v) => v > 0));
});

test('random QModels are valid for many archs and deterministic per seed', () => {
  for (const [i, a] of [arch, { filters: 1, height: 16, width: 16, channels: 1 }, { filters: 5, height: 48, width: 16, channels: 3 }].entries()) {
    const q = randomQModel(a, { seed: i });
    validateQModel(q);
    assert.deepEqual(randomQModel(a, { seed: i }), q);
    assert.notDeepEqual(randomQModel(a, { seed: i + 10 }).tensors, q.tensors);
  }
  // both padding styles appear across seeds
  const pads = new Set<string>();
  for (let s = 0; s < 6; s++) pads.add(JSON.stringify((randomQModel(arch, { seed: s }).ops['ag1.s'] as QConv).pads));
  assert.deepEqual([...pads].sort(), ['[0,0,1,1]', '[1,1,1,1]']);
});

test('synthetic frames: deterministic, the right size, grey replicated', () => {
  const [f] = syntheticFrames(arch, 1, 5);
  assert.equal(f.length, 32 * 32 * 3);
  assert.deepEqual(syntheticFrames(arch, 1, 5)[0], f);
  for (let p = 0; p < 32 * 32; p++) assert.ok(f[3 * p] === f[3 * p + 1] && f[3 * p] === f[3 * p + 2]);
  assert.ok(new Set(f).size > 50);
});
