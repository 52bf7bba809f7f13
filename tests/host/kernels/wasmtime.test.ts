// The kernel module under a second engine: Wasmtime (Cranelift, through the `wasmtime`
// Python package; Node has no Wasmtime binding) repeats the kernel calls V8 made, on the
// same memory, and must leave the same memory byte for byte: the golden vectors, and every
// kernel call of a whole small network through both engines (the chip's DMA boxes included). The relaxed-SIMD module runs the same calls under
// Wasmtime too (Wasmtime needs no flag for relaxed SIMD; Node 20 does).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createWasmKernels, type WasmBuild } from '../../../host/kernels/wasm-kernels.js';
import { createDirectEngine } from '../../../host/engine/direct-executor.js';
import { createChipEngine } from '../../../host/chip/chip-engine.js';
import { KERNEL_FUNCTIONS } from '../../../host/kernels/kernel-set.js';
import { randomQModel } from '../../../models/random-qmodel.js';
import { syntheticFrames } from '../../../models/random-model.js';
import { goldenCases, runGolden } from './golden/cases.js';
import { recordKernels, replayInWasmtime, type KernelTrace } from './wasmtime/trace.js';
import { firstDiff } from './harness.js';

const BUILDS: WasmBuild[] = ['simd', 'relaxed'];

function sameMemory(v8: Uint8Array, trace: KernelTrace, what: string): void {
  for (const build of BUILDS) {
    const wasmtime = replayInWasmtime(build, trace);
    assert.equal(wasmtime.length, v8.length, `${what}: memory sizes (${build})`);
    assert.equal(firstDiff(v8, wasmtime, 1), null, `${what}: Wasmtime (${build}) differs from V8 (simd)`);
  }
}

test('golden vectors: Wasmtime leaves the same memory as V8, which matches the expected bytes', () => {
  assert.ok(goldenCases.length >= 4);
  for (const g of goldenCases) {
    const ks = createWasmKernels({ build: 'simd' });
    const rec = recordKernels(ks);
    assert.deepEqual([...runGolden(rec.kernels, g)], g.expected, `V8 ${g.name}`);
    sameMemory(new Uint8Array(ks.heap), rec.take(), g.name);
  }
});

test('a whole small network through both engines (every kernel, odd channel counts): Wasmtime == V8 byte for byte', () => {
  // F 3: channel counts 3..48, groups of 4 output channels with partial last groups
  const arch = { filters: 3, height: 32, width: 48, channels: 3 };
  const ks = createWasmKernels({ build: 'simd' });
  const rec = recordKernels(ks);
  const model = randomQModel(arch, { seed: 5 });
  const frame = syntheticFrames(arch, 1, 3)[0];
  createDirectEngine(model, rec.kernels).run(frame);
  const trace = rec.take();
  const kinds = new Set(trace.calls.map((c) => c[0]));
  for (const k of KERNEL_FUNCTIONS.filter((k) => k !== 'copyBox')) assert.ok(kinds.has(k), `the network calls ${k}`);
  sameMemory(new Uint8Array(ks.heap), trace, 'network F3 32x48x3');
  // the chip engine: its tiles' kernel calls and its DMA boxes (copyBox), strided ones included
  createChipEngine(model, rec.kernels, { chip: 'nv_small', sramBytes: 16384 }).run(frame);
  const chip = rec.take();
  const boxes = chip.calls.filter((c) => c[0] === 'copyBox');
  assert.ok(boxes.some((c) => Number(c[3]) * Number(c[6]) > 1), 'the chip copies strided boxes');
  sameMemory(new Uint8Array(ks.heap), chip, 'network F3 32x48x3, chip engine');
});
