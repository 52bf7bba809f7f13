// Whole networks, WASM kernels vs the TypeScript reference, byte for byte:
// random QModels for F in {1,2,3}, sides 16/32/48 (and non-square), 1 and 3
// channels, two frames each, every tensor compared. The plain-SIMD build runs
// in this process; the relaxed-SIMD build in a child Node started with
// --experimental-wasm-relaxed-simd (Node 20 needs the flag) unless this one has it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { relaxedSimdSupported } from '../../../host/kernels/wasm-kernels.js';
import { compareCases, compareNetwork, type CompareResult } from './support/network-compare.js';

function describe(r: CompareResult): string {
  const a = r.arch;
  const m = r.mismatch!;
  return `${r.build} F=${a.filters} ${a.height}x${a.width}x${a.channels} seed ${r.seed}: tensor ${m.tensor} frame ${m.frame}: ` +
    `${m.differing} of ${m.of} bytes differ, first at ${m.index} (wasm ${m.wasm}, reference ${m.reference})`;
}

test('plain SIMD build: whole networks match the reference byte for byte', () => {
  for (const { arch, seed } of compareCases()) {
    const r = compareNetwork('simd', arch, seed);
    assert.equal(r.mismatch, null, r.mismatch ? describe(r) : '');
    assert.equal(r.build, 'wasm-simd');
    assert.ok(r.tensors > 100);
  }
});

test('relaxed SIMD build: whole networks match the reference byte for byte', () => {
  let results: CompareResult[];
  if (relaxedSimdSupported()) {
    results = compareCases().map(({ arch, seed }) => compareNetwork('relaxed', arch, seed));
  } else {
    const script = fileURLToPath(new URL('./support/network-compare.ts', import.meta.url));
    const out = execFileSync(process.execPath, ['--experimental-wasm-relaxed-simd', '--import', 'tsx', script, 'relaxed'], { encoding: 'utf8', maxBuffer: 1 << 24 });
    results = JSON.parse(out) as CompareResult[];
  }
  assert.equal(results.length, compareCases().length);
  for (const r of results) {
    assert.equal(r.mismatch, null, r.mismatch ? describe(r) : '');
    assert.equal(r.build, 'wasm-relaxed-simd');
  }
});
