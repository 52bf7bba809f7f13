// The op bindings (host/kernels/ops): one per op kind, and Eval over any output
// sub-range. Every op of a network is run split into row bands (and, where the
// op allows, output-channel groups), each part with its own scratch region, as
// the workers of a threaded engine would: the bytes must equal the whole-tensor
// run of the direct executor, on the reference and the WebAssembly kernels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildGraph, opInputs, type Arch, type Graph, type Op } from '../../../models/graph.js';
import { randomQModel } from '../../../models/random-qmodel.js';
import { syntheticFrames } from '../../../models/random-model.js';
import type { QModel } from '../../../models/qmodel.js';
import type { KernelSet } from '../../../host/kernels/kernel-set.js';
import { createReferenceKernels } from '../../../host/kernels/reference/index.js';
import { createWasmKernels } from '../../../host/kernels/wasm-kernels.js';
import { bandCall, type OpCall } from '../../../host/kernels/ops/op-binding.js';
import { placeParams, writeParams } from '../../../host/kernels/ops/param-placement.js';
import { bindingOf, type PreparedOp } from '../../../host/kernels/ops/registry.js';
import { createDirectEngine } from '../../../host/engine/direct-executor.js';
import { prepareModel } from '../../../host/engine/prepared-model.js';

test('every op kind of the graph has a binding, and nothing else does', () => {
  const g = buildGraph({ filters: 2, height: 32, width: 32, channels: 1 });
  const kinds = new Set(g.ops.map((op) => op.kind));
  assert.equal(kinds.size, 8);
  for (const op of g.ops) assert.equal(bindingOf(op).kind, op.kind);
});

/** Bands of about `n` parts, starting on multiples of `align`. */
function bands(h: number, n: number, align: number): [number, number][] {
  const step = Math.max(align, Math.ceil(h / n / align) * align);
  const out: [number, number][] = [];
  for (let y = 0; y < h; y += step) out.push([y, Math.min(h, y + step)]);
  return out;
}

/**
 * Run op `i` of the model on `kernels` split into parts, its inputs taken from
 * `tensors` (the direct executor's), and return its output bytes.
 */
function runSplit(kernels: KernelSet, model: QModel, g: Graph, p: PreparedOp, i: number, tensors: (t: string) => Int8Array): Int8Array {
  const op: Op = p.op;
  const geometry = p.geometry(g);
  const o = g.tensors.get(op.output)!;
  const params = placeParams(g, kernels);
  // region: [params | every operand tensor | one scratch per part]
  const names = [...opInputs(op), op.output];
  const at = new Map<string, number>();
  let top = Math.ceil(params.bytes / 16) * 16;
  for (const t of names) {
    at.set(t, top);
    const s = g.tensors.get(t)!;
    top += Math.ceil((s.h * s.w * s.c) / 16) * 16;
  }
  const planes = params.ops[i]?.planes.map((q) => ({ at: q.at, perChannel: q.plane.perChannel })) ?? [];
  const rows = bands(o.h, 3, geometry.rowAlign);
  // channel groups split where the kernels' packing allows (a multiple of its channel group)
  const unit = Math.max(1, ...(params.ops[i]?.planes.map((q) => q.plane.channelGroup ?? 1) ?? []));
  const half = Math.floor(o.c / 2 / unit) * unit;
  const groups: [number, number][] = geometry.groupable && half > 0 ? [[0, half], [half, o.c]] : [[0, o.c]];
  const calls: OpCall[] = [];
  for (const [y0, y1] of rows) for (const [o0, o1] of groups) calls.push(bandCall(op, g, geometry, (t) => at.get(t)!, planes, y0, y1, o0, o1));
  const scratchBytes = Math.max(0, ...calls.map((c) => p.scratchBytes(c)));
  const scratchAt = top;
  kernels.ensureHeap(scratchAt + calls.length * scratchBytes + 64);
  writeParams(kernels, params, g, model, 0);
  const heap = new Int8Array(kernels.heap);
  for (const t of opInputs(op)) heap.set(tensors(t), at.get(t)!);
  heap.fill(0x5a, at.get(op.output)!, at.get(op.output)! + o.h * o.w * o.c);
  // every part has its own scratch, as each worker of a pool would
  calls.forEach((c, k) => p.bind(kernels, c, { ptr: scratchAt + k * scratchBytes, bytes: scratchBytes })());
  const out = at.get(op.output)!;
  return new Int8Array(kernels.heap.slice(out, out + o.h * o.w * o.c));
}

for (const arch of [{ filters: 2, height: 32, width: 48, channels: 3 }, { filters: 4, height: 16, width: 16, channels: 1 }] as Arch[]) {
  test(`every op over row bands and channel groups, each with its own scratch, equals the whole-tensor run (F=${arch.filters} ${arch.height}x${arch.width}x${arch.channels})`, () => {
    const model = randomQModel(arch, { seed: 41, torchPads: 0.5 });
    const { graph: g, ops } = prepareModel(model);
    const direct = createDirectEngine(model, createReferenceKernels(), { keepTensors: true });
    direct.run(syntheticFrames(arch, 1, 3)[0]);
    let split = 0;
    for (const kernels of [createReferenceKernels(), createWasmKernels({ build: 'simd' })]) {
      ops.forEach((p, i) => {
        const want = direct.tensor!(p.op.output);
        const got = runSplit(kernels, model, g, p, i, (t) => direct.tensor!(t));
        const at = got.findIndex((v, j) => v !== want[j]);
        assert.equal(at, -1, `${kernels.name} ${p.op.name} (${p.op.kind}): byte ${at} differs`);
        if (g.tensors.get(p.op.output)!.h > 2) split++;
      });
    }
    assert.ok(split > 40, 'most ops were split');
  });
}
