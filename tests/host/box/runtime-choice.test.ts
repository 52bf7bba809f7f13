// Which of an image's runtime builds a box runs (host/box/runtime-choice.ts), and that the
// threaded build the box prefers gives the golden-frame hash of the plain build it is checked
// against at build time, on one kernel thread and on two.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { chooseRuntime, runnableBuilds } from '../../../host/box/runtime-choice.ts';
import { selfTestHash } from '../../../host/box/self-test.ts';
import { RUNTIME_BUILDS, runtimeSection, type RuntimeBuild, type RuntimeNeed } from '../../../firmware/image.ts';

const carried = (...builds: RuntimeBuild[]) => builds.map((build) => ({ build, section: runtimeSection(build), needs: [...RUNTIME_BUILDS[build]] }));
const ALL: Set<RuntimeNeed> = new Set(['wasm-simd', 'wasm-relaxed-simd', 'shared-memory', 'worker-threads']);

test('the threaded build is preferred where the box gives more than one kernel thread, else the best single-thread build', () => {
  assert.deepEqual(chooseRuntime(carried('simd', 'threads'), ALL), { build: 'threads' });
  const oneThread = new Set<RuntimeNeed>(['wasm-simd', 'shared-memory']);
  assert.deepEqual(chooseRuntime(carried('simd', 'threads'), oneThread), { build: 'simd' });
  assert.deepEqual(chooseRuntime(carried('simd', 'relaxed'), ALL), { build: 'relaxed' });
  assert.deepEqual(runnableBuilds(new Set(['wasm-simd'])), ['simd']);
});

test('an image with no build the box runs is refused with the reason, naming both lists', () => {
  const r = chooseRuntime(carried('threads'), new Set(['wasm-simd']));
  assert.equal(r.build, null);
  assert.match((r as { reason: string }).reason, /carries runtime builds \[threads\]; this box runs \[simd\]/);
});

test('the threaded build reproduces the plain build\'s golden-frame hash on 1 and 2 kernel threads', async () => {
  const model = readFileSync(new URL('../../../models/busi-lite.aunet', import.meta.url));
  const simd = await selfTestHash(readFileSync(new URL('../../../build/kernels.simd.wasm', import.meta.url)), model, 'simd');
  const threads = readFileSync(new URL('../../../build/kernels.threads.wasm', import.meta.url));
  assert.equal(await selfTestHash(threads, model, 'threads', 1), simd);
  assert.equal(await selfTestHash(threads, model, 'threads', 2), simd);
});
