// The release modules are standalone (no imports) and reject bad arguments with clear errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { wasmFile, createWasmKernels, WasmKernelError, relaxedSimdSupported, defaultBuild, HEAP_SLACK, compileKernels, type WasmBuild } from '../../../host/kernels/wasm-kernels.js';
import { KERNEL_FUNCTIONS } from '../../../host/kernels/kernel-set.js';
import { OLD_KERNEL_MODULE } from './harness.js';

const builds: WasmBuild[] = relaxedSimdSupported() ? ['simd', 'relaxed'] : ['simd'];

test('release modules instantiate with an empty import object and import nothing', async () => {
  for (const build of builds) {
    const bytes = readFileSync(wasmFile(build));
    const module = await WebAssembly.compile(bytes);
    assert.deepEqual(WebAssembly.Module.imports(module), [], `${build} imports`);
    const { exports } = await WebAssembly.instantiate(module, {});
    const names = Object.keys(exports).sort();
    for (const fn of [...KERNEL_FUNCTIONS, 'memory']) {
      assert.ok(names.includes(fn), `${build} exports ${fn}`);
    }
    assert.equal((exports.variant as () => number)(), build === 'relaxed' ? 2 : 1);
  }
});

test('the default build follows relaxed-SIMD support', () => {
  assert.equal(defaultBuild(), relaxedSimdSupported() ? 'relaxed' : 'simd');
  assert.equal(createWasmKernels().name, relaxedSimdSupported() ? 'wasm-relaxed-simd' : 'wasm-simd');
});

test('bad kernel arguments throw WasmKernelError naming the kernel and the problem', () => {
  const ks = createWasmKernels({ build: 'simd' });
  ks.ensureHeap(4096);
  assert.throws(() => ks.conv3x3(0, 4, 4, 1, 0, 1024, 4, 4, 1, 1, 3, 1, 1, 2048, 2100, 2200, 2300, 0, -128, 127, 0, 3072, 1024),
    (e: unknown) => e instanceof WasmKernelError && /conv3x3: stride must be 1 or 2/.test(e.message));
  assert.throws(() => ks.conv1x1(0, 4, 1, 300, 1024, 1, 1, 2048, 2100, 2200, 2300, 0, -128, 127),
    /conv1x1: zero point outside \[-128, 127\]/);
  assert.throws(() => ks.gateMul(0, 64, 2, 2, 1, 0, 1 << 30, 0, 0, 10, -10, 128), /gateMul: activation range/);
  assert.throws(() => ks.add(0, 16, 4, 0, 0, 20, 1 << 30, 1, 1 << 30, 0, 1 << 30, 0, 0, -128, 127, 32), /add: shift outside/);
  assert.throws(() => ks.maxpool2x2(1 << 30, 64, 64, 64, 0), /maxpool2x2: trap: memory access out of bounds/);
  assert.throws(() => ks.copyBox(0, 64, 2, 8, 8, -1, 0, 0, 4), /copyBox: invalid tensor shape/);
  assert.throws(() => ks.copyBox(0, 64, 1, 0, 0, 1, 0, 0, -4), /copyBox: invalid tensor shape/);
  // a box whose last run lies past the memory (or whose 32-bit addresses would wrap) moves nothing
  const before = new Uint8Array(ks.heap).slice();
  assert.throws(() => ks.copyBox(0, 64, 2, 8, 8, 2, 0x7fffffff, 0, 4), /copyBox: trap: memory access out of bounds/);
  assert.throws(() => ks.copyBox(0, ks.heap.byteLength - 8, 2, 0, 8, 1, 0, 0, 4), /copyBox: trap: memory access out of bounds/);
  assert.deepEqual(new Uint8Array(ks.heap), before);
  // a failed call leaves the module usable
  const h = new Int8Array(ks.heap); h.set([1, 9, 3, 4], 0);
  ks.maxpool2x2(0, 2, 2, 1, 16);
  assert.equal(new Int8Array(ks.heap)[16], 9);
  assert.throws(() => ks.packConvWeights(3, 2, 2, new Int8Array(35), 0, 1), /expected 36 OHWI weights/);
});

test('a kernel module without every kernel (built from older sources) is refused by name', () => {
  const bytes = OLD_KERNEL_MODULE;
  assert.ok(WebAssembly.validate(bytes));
  assert.throws(() => compileKernels(bytes), /the kernel module lacks conv1x1, maxpool2x2, .*, copyBox, weightLayout: it was built from older sources/);
  assert.throws(() => createWasmKernels({ bytes }), /lacks conv1x1/);
});

test('heap growth keeps data and leaves slack past the caller buffers for vector over-reads', () => {
  const ks = createWasmKernels({ build: 'simd' });
  ks.ensureHeap(100);
  new Int8Array(ks.heap).set([7, 8, 9], 97);
  const grown = ks.ensureHeap(5 << 20);
  assert.ok(grown.byteLength >= (5 << 20) + HEAP_SLACK);
  assert.deepEqual([...new Int8Array(ks.heap, 97, 3)], [7, 8, 9]);
  assert.throws(() => ks.ensureHeap(-1), /non-negative integer/);
});
