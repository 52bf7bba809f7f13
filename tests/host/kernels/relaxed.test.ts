// The relaxed-SIMD build must match the reference too. Node 20 only runs it with
// --experimental-wasm-relaxed-simd, so the equivalence suites are re-run for that
// build in a child Node started with the flag (when this Node lacks it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { relaxedSimdSupported } from '../../../host/kernels/wasm-kernels.js';

test('relaxed-SIMD build: conv, element-wise and golden suites against the reference', () => {
  const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));
  const flags = relaxedSimdSupported() ? [] : ['--experimental-wasm-relaxed-simd'];
  const r = spawnSync(process.execPath, [...flags, '--import', 'tsx', '--test',
    here('./conv.test.ts'), here('./elementwise.test.ts'), here('./golden.test.ts')], {
    // without NODE_TEST_CONTEXT the child reports as a top-level run (readable TAP on stdout)
    env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_TEST_CONTEXT')), AUNET_KERNEL_BUILDS: 'relaxed' },
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, `relaxed build suites failed:\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-2000)}`);
  assert.match(r.stdout, /# fail 0/);
  assert.match(r.stdout, /# pass [1-9]/);
});
