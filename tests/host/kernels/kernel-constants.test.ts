// The numbers the WebAssembly kernels and the host share live in one file
// (host/kernels/kernel-constants.ts) that both compilers read: the kernels
// define no code or layout constant of their own, every code has its text, and
// the host packs weights in the layout the kernels read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import * as shared from '../../../host/kernels/kernel-constants.js';
import { kernelErrorCodes, kernelErrorText } from '../../../host/kernels/kernel-errors.js';
import { packConvWeights, packedConvWeightBytes, packedRun, winogradTile } from '../../../host/kernels/weight-packing.js';
import { createWasmKernels, WasmKernelError } from '../../../host/kernels/wasm-kernels.js';
import { createThreadedKernels } from '../../../host/kernels/threaded-kernels.js';

const kernelDir = new URL('../../../assembly/kernels/', import.meta.url);
const kernelSources = readdirSync(kernelDir).filter((f) => f.endsWith('.ts')).map((f) => [f, readFileSync(new URL(f, kernelDir), 'utf8')] as const);

test('kernel error codes: one table, compiled into the kernels, every code with its text', () => {
  const codes = Object.entries(shared).filter(([name]) => name.startsWith('ERR_') && name !== 'ERR_NONE');
  assert.ok(codes.length >= 9);
  assert.equal(new Set(codes.map(([, v]) => v)).size, codes.length, 'codes are distinct');
  for (const [name, code] of codes) {
    assert.ok(Number.isInteger(code) && code > 0, `${name} = ${code}`);
    assert.ok(kernelErrorText(code), `${name} has no text`);
  }
  assert.deepEqual(kernelErrorCodes().map((c) => c.name).sort(), codes.map(([n]) => n).sort());
  assert.equal(kernelErrorText(shared.ERR_NONE), undefined);
  for (const [file, src] of kernelSources) {
    // no kernel defines a code or the layout constant itself: they import the shared file
    assert.doesNotMatch(src, /\b(ERR_[A-Z_]+|WEIGHT_RUN_LANES|WINOGRAD_MAX_CIN|WINOGRAD4_CHUNK_CIN)\s*(:\s*\w+\s*)?=\s*\d/, `${file} defines a shared constant`);
    for (const [, used] of src.matchAll(/fail\((ERR_[A-Z_]+)\)/g)) assert.ok(used in shared, `${file} fails with ${used}, which kernel-constants.ts lacks`);
  }
  const imports = kernelSources.filter(([, src]) => src.includes("from '../../host/kernels/kernel-constants'")).map(([f]) => f).sort();
  assert.deepEqual(imports, ['conv1x1.ts', 'conv3x3-winograd.ts', 'conv3x3.ts', 'errors.ts']);
});

test('a kernel trap reports the shared code and its text', () => {
  const ks = createWasmKernels({ build: 'simd' });
  ks.ensureHeap(1 << 16);
  const conv = (stride: number, scratchBytes: number) => () =>
    ks.conv3x3(0, 4, 4, 1, 0, 1024, 4, 4, 1, 1, stride, 1, 1, 2048, 2100, 2200, 2300, 0, -128, 127, 0, 4096, scratchBytes);
  const code = (f: () => void) => {
    try {
      f();
    } catch (e) {
      assert.ok(e instanceof WasmKernelError);
      assert.ok(e.message.endsWith(kernelErrorText(e.code)!), e.message);
      return e.code;
    }
    return 0;
  };
  assert.equal(code(conv(3, 4096)), shared.ERR_STRIDE);
  assert.equal(code(conv(1, 16)), shared.ERR_SCRATCH);
  assert.equal(code(() => ks.add(0, 16, 4, 0, 0, 20, 1 << 30, 1, 1 << 30, 0, 1 << 30, 0, 0, -128, 127, 32)), shared.ERR_SHIFT);
});

test('weight packing: runs of whole i16 vectors, the layout conv3x3/conv1x1 read', () => {
  assert.equal(shared.WEIGHT_RUN_LANES, 8); // one v128 of i16: the kernels' dot-product step
  assert.equal(shared.CONV3X3_GROUP, 4); // conv3x3's register block
  // the same values the AssemblyScript spec pins for convRunPad / conv1x1Pad
  assert.deepEqual([1, 3, 8].map((c) => packedRun(3, c)), [16, 32, 72]);
  assert.deepEqual([1, 16, 17].map((c) => packedRun(1, c)), [8, 16, 24]);
  assert.equal(packedConvWeightBytes(3, 3, 1), 32 * 2);
  // 5 output channels of a 3x3x3 conv (a full group and a partial one): OHWI value i is i + 1
  const cin = 3, cout = 5, run = 32;
  const heap = new ArrayBuffer(1024);
  new Int16Array(heap).fill(99);
  const ohwi = Int8Array.from({ length: cout * 9 * cin }, (_, i) => ((i + 1) << 24) >> 24);
  packConvWeights(heap, 1024, 3, cin, cout, ohwi, 32, 1);
  const w = new Int16Array(heap, 32, (8 * packedConvWeightBytes(3, cin, 1)) >> 1); // two groups of 4
  for (let o = 0; o < 8; o++) {
    // channel o's run: slices of 8 at [group][slice][channel]
    const got = Array.from({ length: run }, (_, i) => w[Math.floor(o / 4) * run * 4 + Math.floor(i / 8) * 32 + (o % 4) * 8 + (i % 8)]);
    const want = new Array(run).fill(0);
    if (o < cout) for (let kx = 0; kx < 3; kx++) for (let ky = 0; ky < 3; ky++) for (let c = 0; c < cin; c++) want[(kx * 3 + ky) * cin + c] = ohwi[((o * 3 + ky) * 3 + kx) * cin + c];
    assert.deepEqual(got, want, `channel ${o}`);
  }
  assert.equal(new Int16Array(heap)[15], 99, 'nothing written before dst');
  assert.equal(new Int16Array(heap)[16 + w.length], 99, 'nothing written past the packed groups');
  assert.throws(() => packConvWeights(heap, 512, 3, cin, cout, ohwi, 32, 1), /lies outside the heap of 512 bytes/);
  assert.throws(() => packConvWeights(heap, 1024, 3, cin, cout, ohwi.subarray(1), 32, 1), /expected 135 OHWI weights/);
});

test('weight packing: stride-1 3x3 convs with cin a multiple of 8 get the Winograd layout winograd-f4x4.ts reads', () => {
  const cases = [[1, 8], [1, 16], [1, 112], [1, 120], [1, 1024], [1, 1032], [1, 12], [2, 8], [1, 3]];
  assert.deepEqual(cases.map(([s, c]) => winogradTile(s, c)), [4, 4, 4, 4, 4, 0, 0, 0, 0]);
  // F(4x4, 3x3) recovers a sum modulo 2^26: 9 * cin * 255 * 127 must stay under 2^25 over a chunk of
  // channels whatever the weights; the chunks' sums add up in i32
  assert.ok(9 * shared.WINOGRAD4_CHUNK_CIN * 255 * 127 < 2 ** 25 && 9 * (shared.WINOGRAD4_CHUNK_CIN + 8) * 255 * 127 >= 2 ** 25);
  assert.ok(9 * shared.WINOGRAD_MAX_CIN * 255 * 127 < 2 ** 31);
  assert.equal(packedConvWeightBytes(3, 8, 1), 36 * 8 * 2);
  assert.equal(packedConvWeightBytes(3, 120, 1), 36 * 120 * 2);
  assert.equal(packedConvWeightBytes(3, 8, 2), 72 * 2);
  // G (scaled to integers): F(4x4, 3x3)'s rows times their denominators (4, 6, 6, 24, 24, 1)
  const G = [[1, 0, 0], [-1, -1, -1], [-1, 1, -1], [1, 2, 4], [1, -2, 4], [0, 0, 1]];
  for (const cin of [8, 120]) {
    const n = G.length, cout = 5;
    const bytes = 8 * packedConvWeightBytes(3, cin, 1) + 128;
    const heap = new ArrayBuffer(bytes);
    const ohwi = Int8Array.from({ length: cout * 9 * cin }, (_, i) => ((i * 37 + 11) % 255) - 127);
    packConvWeights(heap, bytes, 3, cin, cout, ohwi, 64, 1);
    const w = new Int16Array(heap, 64, (8 * packedConvWeightBytes(3, cin, 1)) >> 1);
    for (let o = 0; o < 8; o++) {
      for (let c = 0; c < cin; c++) {
        for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
          let want = 0;
          if (o < cout) for (let ky = 0; ky < 3; ky++) for (let kx = 0; kx < 3; kx++) want += G[i][ky] * ohwi[((o * 3 + ky) * 3 + kx) * cin + c] * G[j][kx];
          // [group][p][channel pair][channel in group][2]
          const at = Math.floor(o / 4) * 4 * n * n * cin + (((i * n + j) * (cin / 2) + (c >> 1)) * 4 + (o % 4)) * 2 + (c & 1);
          assert.equal(w[at], want, `cin ${cin} channel ${o} input ${c} p ${i * n + j}`);
        }
      }
    }
  }
});

test('a kernel module that reads another weight layout, or does not say which, is refused (BAD_VERSION), threaded or not', async () => {
  // the built module with its weightLayout export replaced (binaryen, as scripts/build-wasm.js reads modules)
  const { default: binaryen } = await import('binaryen');
  const rebuilt = (file: string, layout: number | null): Uint8Array<ArrayBuffer> => {
    const mod = binaryen.readBinary(readFileSync(new URL(`../../../build/${file}`, import.meta.url)));
    mod.removeExport('weightLayout');
    if (layout !== null) {
      mod.addFunction('otherLayout', binaryen.none, binaryen.i32, [], mod.i32.const(layout));
      mod.addFunctionExport('otherLayout', 'weightLayout');
    }
    return new Uint8Array(mod.emitBinary()); // over a plain ArrayBuffer, the type WebAssembly.Module takes
  };
  assert.equal(createWasmKernels({ bytes: rebuilt('kernels.simd.wasm', shared.WEIGHT_LAYOUT) }).exports.weightLayout(), shared.WEIGHT_LAYOUT);
  assert.throws(() => createWasmKernels({ bytes: rebuilt('kernels.simd.wasm', shared.WEIGHT_LAYOUT - 1) }), (e: Error & { code?: string }) =>
    e.code === 'BAD_VERSION' && e.message.includes(`layout ${shared.WEIGHT_LAYOUT - 1}, this software packs layout ${shared.WEIGHT_LAYOUT}`));
  assert.throws(() => createWasmKernels({ bytes: rebuilt('kernels.simd.wasm', null) }), (e: Error & { code?: string }) => e.code === 'BAD_VERSION' && /lacks weightLayout/.test(e.message));
  const threads = new WebAssembly.Module(rebuilt('kernels.threads.wasm', shared.WEIGHT_LAYOUT + 1));
  await assert.rejects(createThreadedKernels({ threads: 2, module: threads }), (e: Error & { code?: string }) => e.code === 'BAD_VERSION' && e.message.includes(`layout ${shared.WEIGHT_LAYOUT + 1}`));
  // compiled without compileKernels' export check: still refused by name, not a TypeError
  const unnamed = new WebAssembly.Module(rebuilt('kernels.threads.wasm', null));
  await assert.rejects(createThreadedKernels({ threads: 2, module: unnamed }), (e: Error & { code?: string }) => e.code === 'BAD_VERSION' && /lacks weightLayout/.test(e.message));
});
