// Which of an image's runtime builds this box runs (docs/firmware-format.md,
// "Runtimes"): the first build, in this software's order of preference, that
// the image carries, whose needs this Node gives, and that this software can
// execute. The choice is recorded in the status and device info, and the
// pipeline's self-test runs that same build.
import { compileKernels, createWasmKernels, relaxedSimdSupported } from '../kernels/wasm-kernels.js';
import { createThreadedKernels } from '../kernels/threaded-kernels.js';
import type { KernelSet } from '../kernels/kernel-set.js';
import { RUNTIME_BUILDS, type Manifest, type RuntimeBuild, type RuntimeNeed } from '../../firmware/image.js';
import type { RuntimeModule } from './worker-engine.js';
import { defaultThreads } from '../../common/thread-count.js';

/**
 * Builds this software can execute, best first: the threaded build
 * (host/kernels/threaded-kernels.ts, a worker pool over an imported shared
 * memory) where the box gives the pipeline more than one kernel thread, then
 * relaxed SIMD, then plain SIMD.
 */
export const EXECUTABLE_BUILDS = ['threads', 'relaxed', 'simd'] as const satisfies readonly RuntimeBuild[];
export type ExecutableBuild = (typeof EXECUTABLE_BUILDS)[number];


/** The kernels of a runtime module: the threaded build on `threads` threads, a single-thread build as it is. */
export function runtimeKernels(r: RuntimeModule, threads: number): KernelSet | Promise<KernelSet> {
  return r.build === 'threads' ? createThreadedKernels({ threads, module: compileKernels(r.bytes) }) : createWasmKernels({ bytes: r.bytes, build: r.build });
}

// (module (func (result v128) v128.const i32x4 0 0 0 0))
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 22, 1, 20, 0, 253, 12, ...new Array<number>(16).fill(0), 11]);

function sharedMemory(): boolean {
  try {
    return new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }).buffer instanceof SharedArrayBuffer;
  } catch {
    return false;
  }
}

/** What this process offers a runtime build. */
export function supportedNeeds(): Set<RuntimeNeed> {
  const needs = new Set<RuntimeNeed>();
  // a single kernel thread gains nothing from the threaded build (AUNET_THREADS=1, or one core)
  if (defaultThreads() > 1) needs.add('worker-threads');
  if (WebAssembly.validate(SIMD_PROBE)) needs.add('wasm-simd');
  if (relaxedSimdSupported()) needs.add('wasm-relaxed-simd');
  if (sharedMemory()) needs.add('shared-memory');
  return needs;
}

/** Builds this box can run now, best first. */
export function runnableBuilds(needs = supportedNeeds()): ExecutableBuild[] {
  return EXECUTABLE_BUILDS.filter((b) => RUNTIME_BUILDS[b].every((n) => needs.has(n)));
}

/** The build to run from an image's list, or null with the reason when none fits. */
export function chooseRuntime(runtimes: Manifest['runtimes'], needs = supportedNeeds()): { build: ExecutableBuild } | { build: null; reason: string } {
  const offered = new Set<RuntimeBuild>(runtimes.map((r) => r.build));
  const build = runnableBuilds(needs).find((b) => offered.has(b));
  if (build) return { build };
  return { build: null, reason: `the image carries runtime builds [${[...offered].join(', ')}]; this box runs [${runnableBuilds(needs).join(', ')}]` };
}
