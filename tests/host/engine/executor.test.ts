// The direct executor on the reference kernels: plan correctness, outputs,
// memory planned once, errors. WASM-vs-reference bit-exactness of whole
// networks is in executor-bitexact.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createReferenceKernels } from '../../../host/kernels/reference/index.js';
import { createWasmKernels } from '../../../host/kernels/wasm-kernels.js';
import { createDirectEngine, type DirectEngine } from '../../../host/engine/direct-executor.js';
import { AunetError } from '../../../common/errors.js';
import { buildGraph, type Arch } from '../../../models/graph.js';
import { randomQModel } from '../../../models/random-qmodel.js';
import { prng, syntheticFrames } from '../../../models/random-model.js';
import type { QConv } from '../../../models/qmodel.js';

const small: Arch = { filters: 2, height: 32, width: 48, channels: 3 };

function noiseFrame(arch: Arch, seed: number): Uint8Array {
  const r = prng(seed);
  return Uint8Array.from({ length: arch.height * arch.width * arch.channels }, () => Math.floor(r() * 256));
}

test('the planned arena gives the same bytes as keeping every tensor', () => {
  for (const [arch, seed] of [[small, 1], [{ filters: 3, height: 16, width: 16, channels: 1 }, 2], [{ filters: 1, height: 48, width: 32, channels: 1 }, 3]] as const) {
    const model = randomQModel(arch, { seed });
    const planned = createDirectEngine(model, createReferenceKernels());
    const kept = createDirectEngine(model, createReferenceKernels(), { keepTensors: true });
    assert.ok(planned.peakBytes < kept.peakBytes, `planning should reuse memory: ${planned.peakBytes} vs ${kept.peakBytes}`);
    const frame = noiseFrame(arch, seed);
    assert.deepEqual(planned.run(frame), kept.run(frame), `F=${arch.filters} ${arch.height}x${arch.width}x${arch.channels}`);
  }
});

test('results: prob at input size, mask = prob > 128, attention maps at H/16..H/2', () => {
  const model = randomQModel(small, { seed: 6 }); // a seed whose mask is mixed on the synthetic frame
  const e = createDirectEngine(model, createReferenceKernels(), { keepTensors: true });
  const r = e.run(syntheticFrames(small, 1)[0]);
  assert.equal(r.prob.width, 48);
  assert.equal(r.prob.height, 32);
  assert.equal(r.prob.data.length, 32 * 48);
  for (let i = 0; i < r.mask.length; i++) assert.equal(r.mask[i], r.prob.data[i] > 128 ? 1 : 0);
  assert.ok(r.mask.some((v) => v === 1) && r.mask.some((v) => v === 0), 'random model should give a mixed mask');
  assert.deepEqual(r.attention.map((a) => [a.width, a.height]), [[3, 2], [6, 4], [12, 8], [24, 16]]);
  // published uint8 = int8 q + 128 of the sigmoid outputs
  const q = e.tensor!('prob');
  for (let i = 0; i < q.length; i++) assert.equal(r.prob.data[i], q[i] + 128);
  const a2 = e.tensor!('a2');
  for (let i = 0; i < a2.length; i++) assert.equal(r.attention[1].data[i], a2[i] + 128);
  // the input tensor is pixel - 128
  const frame = noiseFrame(small, 9);
  e.run(frame);
  const inp = e.tensor!('input');
  for (let i = 0; i < frame.length; i++) assert.equal(inp[i], frame[i] - 128);
});

for (const [backend, make] of [['reference', () => createReferenceKernels()], ['wasm-simd', () => createWasmKernels({ build: 'simd' })]] as const) test(`memory is planned once (${backend}): the heap does not change over frames`, () => {
  const kernels = make();
  const model = randomQModel(small, { seed: 5 });
  const e = createDirectEngine(model, kernels);
  const frames = syntheticFrames(small, 3, 11);
  const first = e.run(frames[0]);
  const heapAfterOne = kernels.heap.byteLength;
  const heapObject = kernels.heap;
  for (let i = 1; i < 20; i++) e.run(frames[i % 3]);
  const again = e.run(frames[0]);
  assert.equal(kernels.heap.byteLength, heapAfterOne);
  assert.equal(kernels.heap, heapObject, 'the heap was reallocated during frames');
  // same frame, same result; results are copies the next run does not touch
  assert.deepEqual(again, first);
  assert.notDeepEqual(e.run(frames[1]).prob.data, again.prob.data);
  assert.deepEqual(again, first);
  first.prob.data.fill(0);
  assert.notDeepEqual(e.run(frames[0]).prob.data, first.prob.data);
  // persistent + arena fit in the heap
  assert.ok(e.peakBytes + e.memory.bytes('weights') + e.memory.bytes('params') <= heapAfterOne);
  assert.equal(e.memory.bytes('activations'), e.peakBytes);
});

test('weights are recorded: every conv weight byte is in the heap once', () => {
  const model = randomQModel(small, { seed: 6 });
  const e = createDirectEngine(model, createReferenceKernels());
  let want = 0;
  for (const p of Object.values(model.ops)) if (p.kind === 'conv' || p.kind === 'affine') want += p.weights.length;
  assert.equal(e.memory.bytes('weights'), want); // the reference packs OHWI as is
});

test('two engines on one kernel set keep their own memory', () => {
  const kernels = createReferenceKernels();
  const a = createDirectEngine(randomQModel(small, { seed: 7 }), kernels);
  const frame = noiseFrame(small, 1);
  const before = a.run(frame);
  const b = createDirectEngine(randomQModel(small, { seed: 8 }), kernels);
  const other = b.run(frame);
  assert.notDeepEqual(other.prob.data, before.prob.data);
  assert.deepEqual(a.run(frame), before);
});

test('profiled runs give the same result and time every step', () => {
  const model = randomQModel(small, { seed: 9 });
  const e = createDirectEngine(model, createReferenceKernels());
  const g = buildGraph(small);
  assert.deepEqual(e.steps.map((s) => s.name), g.ops.map((o) => o.name));
  const times = new Float64Array(e.steps.length);
  const frame = noiseFrame(small, 2);
  assert.deepEqual(e.runProfiled(frame, times), e.run(frame));
  assert.ok(times.every((t) => t >= 0) && times.some((t) => t > 0));
  assert.ok(e.steps.filter((s) => s.kind === 'conv').every((s) => s.macs > 0));
});

function throwsExit(f: () => unknown, pattern: RegExp, code: string) {
  assert.throws(f, (err: unknown) => {
    assert.ok(err instanceof AunetError, `expected an AunetError, got ${String(err)}`);
    assert.match(err.message, pattern);
    assert.equal(err.code, code);
    return true;
  });
}

test('a frame of the wrong size or type is a clear error', () => {
  const e: DirectEngine = createDirectEngine(randomQModel(small, { seed: 1 }), createReferenceKernels());
  throwsExit(() => e.run(new Uint8Array(32 * 48)), /1536 bytes; the model needs height\*width\*channels = 32\*48\*3 = 4608/, 'BAD_FRAME_SIZE');
  throwsExit(() => e.run(new Uint8Array(32 * 48 * 3 + 1)), /4609 bytes/, 'BAD_FRAME_SIZE');
  throwsExit(() => e.run(Array.from({ length: 4608 }) as unknown as Uint8Array), /Uint8Array/, 'BAD_INPUT');
  assert.equal(e.tensor, undefined, 'tensor() exists only with keepTensors');
  const k = createDirectEngine(randomQModel(small, { seed: 1 }), createReferenceKernels(), { keepTensors: true });
  throwsExit(() => k.tensor!('nope'), /no tensor named "nope"/, 'BAD_TENSOR');
});

test('a bad arch is a clear error naming the field', () => {
  const model = randomQModel(small, { seed: 1 });
  const cases: [Partial<Arch>, RegExp][] = [
    [{ height: 40 }, /arch\.height.*multiple of 16.*40/],
    [{ width: 8 }, /arch\.width.*multiple of 16.*8/],
    [{ channels: 2 }, /arch\.channels.*1 or 3.*2/],
    [{ filters: 0 }, /arch\.filters.*from 1 to 64, got 0/],
  ];
  for (const [patch, pattern] of cases) {
    throwsExit(() => createDirectEngine({ ...model, arch: { ...small, ...patch } }, createReferenceKernels()), pattern, 'BAD_MODEL');
  }
});

test('a model that does not fit its graph is a clear error naming the op or tensor', () => {
  const model = randomQModel(small, { seed: 1 });
  const conv = model.ops['dec2.conv1'] as QConv;
  const cases: [() => void, RegExp][] = [
    [() => { (model.ops['dec2.conv1'] as QConv).weights = conv.weights.subarray(1); }, /ops\.dec2\.conv1\.weights.*has \d+ values/],
    [() => { model.tensors['c3'] = { scale: 0.1, zeroPoint: 200 }; }, /tensors\.c3\.zeroPoint.*200/],
    [() => { (model.ops['enc1.conv1'] as QConv).shift = new Int32Array(2).fill(40); }, /ops\.enc1\.conv1.*shift.*40/],
    [() => { delete model.ops['ag3.sigmoid']; }, /ops\.ag3\.sigmoid.*missing/],
    [() => { (model.ops['ag1.s'] as QConv).pads = [0, 0, 0, 0]; }, /ops\.ag1\.s\.pads/],
  ];
  for (const [spoil, pattern] of cases) {
    const fresh = randomQModel(small, { seed: 1 });
    Object.assign(model, fresh);
    spoil();
    throwsExit(() => createDirectEngine(model, createReferenceKernels()), pattern, 'BAD_MODEL');
  }
});
