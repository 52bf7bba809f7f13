// Loads the WebAssembly kernel module (build/kernels.<build>.wasm, made by
// scripts/build-wasm.js from assembly/) and wraps it as a KernelSet. The relaxed-SIMD
// build is picked only when this engine validates relaxed SIMD (Node 20 needs
// --experimental-wasm-relaxed-simd), else the plain SIMD build. The module imports
// nothing; a kernel that rejects an argument records a code and traps, and the
// trap is rethrown here as a WasmKernelError naming the kernel and the problem.
// Memory: the caller's buffers (scratch included) occupy [0, ensureHeap(bytes));
// a little slack past them absorbs vector over-reads.
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { KERNEL_FUNCTIONS, type KernelFunctions, type KernelSet } from './kernel-set.js';
import { kernelErrorText } from './kernel-errors.js';
import { WEIGHT_LAYOUT } from './kernel-constants.js';
import { packConvWeights, packedChannelGroup, packedConvWeightBytes } from './weight-packing.js';
import { pathToFileURL } from 'node:url';
import { packageFile } from '../../common/package-root.js';
import { AunetError } from '../../common/errors.js';

export type WasmBuild = 'simd' | 'relaxed' | 'debug';
/** 'threads': the plain-SIMD kernels over an imported shared memory (host/kernels/threaded-kernels.ts) */
export type ModuleBuild = WasmBuild | 'threads';

/** Exports of the kernel module (assembly/index.ts); pointers are byte offsets. */
export interface KernelExports extends KernelFunctions {
  readonly memory: WebAssembly.Memory;
  lastError(): number;
  clearError(): void;
  /** 1: plain SIMD, 2: relaxed SIMD */
  variant(): number;
  /** the packed weight layouts it reads (WEIGHT_LAYOUT) */
  weightLayout(): number;
}

export class WasmKernelError extends Error {
  constructor(readonly kernel: string, readonly code: number, detail: string) {
    super(`wasm kernel ${kernel}: ${detail}`);
    this.name = 'WasmKernelError';
  }
}

/** The error for a kernel that trapped with `code` (0: none recorded: a pointer or size outside the heap). */
export function kernelError(kernel: string, code: number, trap: string, heapBytes: number): WasmKernelError {
  return new WasmKernelError(kernel, code, kernelErrorText(code) ?? `trap: ${trap} (a pointer or size outside the heap of ${heapBytes} bytes?)`);
}

/** Bytes the kernels may read past the end of a buffer (vector over-reads, always multiplied by 0). */
export const HEAP_SLACK = 64;

const PAGE = 65536;
// (module (func (param v128 v128 v128) (result v128) i32x4.relaxed_dot_i8x16_i7x16_add_s))
const RELAXED_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 8, 1, 96, 3, 123, 123, 123, 1, 123, 3, 2, 1, 0,
  7, 5, 1, 1, 102, 0, 0, 10, 13, 1, 11, 0, 32, 0, 32, 1, 32, 2, 253, 147, 2, 11]);

/** Whether this engine accepts relaxed-SIMD instructions. */
export function relaxedSimdSupported(): boolean {
  return WebAssembly.validate(RELAXED_PROBE);
}

export function wasmFile(build: ModuleBuild): URL {
  return pathToFileURL(packageFile(`build/kernels.${build}.wasm`));
}

/** The build createWasmKernels picks when none is forced. */
export function defaultBuild(): WasmBuild {
  return relaxedSimdSupported() ? 'relaxed' : 'simd';
}

const modules = new Map<ModuleBuild, WebAssembly.Module>();

/**
 * Compile kernel module bytes straight to optimised code. V8 otherwise runs new WebAssembly in
 * its baseline tier (Liftoff) and optimises functions once they are hot: the kernel workers,
 * each running half of every call, stayed in baseline code for many frames (seed at 2 threads
 * in `aunet bench`: 226-322 ms median, 186-190 ms compiled this way), and a box's first frames
 * ran slow. The module is 26 KB: optimising all of it takes milliseconds.
 * V8 reads the flag when a module is compiled; it applies to every module this process compiles.
 */
export function compileKernels(bytes: Uint8Array): WebAssembly.Module {
  setFlagsFromString('--no-liftoff');
  const module = new WebAssembly.Module(new Uint8Array(bytes));
  const missing = missingKernels(module);
  if (!WebAssembly.Module.exports(module).some((e) => e.name === 'weightLayout')) missing.push('weightLayout');
  if (missing.length) throw new AunetError('BAD_VERSION', `the kernel module lacks ${missing.join(', ')}: it was built from older sources than this software ${REBUILD}`);
  return module;
}

/** What to do about a kernel module of other sources */
const REBUILD = '(rebuild it, or the firmware image that carries it)';

/** The kernel functions (KERNEL_FUNCTIONS) a module does not export. */
export function missingKernels(module: WebAssembly.Module): string[] {
  const names = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
  return KERNEL_FUNCTIONS.filter((k) => !names.has(k));
}

/** The compiled module of a build (compiled once per process). */
export function kernelModule(build: ModuleBuild): WebAssembly.Module {
  let m = modules.get(build);
  if (!m) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(wasmFile(build));
    } catch (e) {
      throw new Error(`cannot read the ${build} kernel module ${wasmFile(build).pathname} (run npm run build:wasm): ${(e as Error).message}`);
    }
    if (build === 'relaxed' && !relaxedSimdSupported()) {
      throw new Error('this engine does not support relaxed SIMD (Node 20: run with --experimental-wasm-relaxed-simd)');
    }
    m = compileKernels(bytes);
    modules.set(build, m);
  }
  return m;
}

/** Instantiate the raw module (no imports) for a build. */
export function instantiateKernels(build: WasmBuild): KernelExports {
  return checkLayout(new WebAssembly.Instance(kernelModule(build), {}).exports as unknown as KernelExports);
}

/** `ex`, a kernel module's exports, if it reads the weight layouts this software packs; else BAD_VERSION. */
export function checkLayout<T extends Pick<KernelExports, 'weightLayout'>>(ex: T): T {
  // a module compiled elsewhere than compileKernels may lack the export altogether
  if (typeof ex.weightLayout !== 'function') throw new AunetError('BAD_VERSION', `the kernel module lacks weightLayout: it was built from older sources than this software ${REBUILD}`);
  const layout = ex.weightLayout();
  if (layout !== WEIGHT_LAYOUT) {
    throw new AunetError('BAD_VERSION', `the kernel module reads packed weights in layout ${layout}, this software packs layout ${WEIGHT_LAYOUT}: it was built from other sources ${REBUILD}`);
  }
  return ex;
}

/**
 * A KernelSet over the WebAssembly kernels. `build` forces a module (tests and
 * benchmarks); by default relaxed SIMD when the engine has it, else plain SIMD.
 */
export function createWasmKernels(options: { build?: WasmBuild; bytes?: Uint8Array } = {}): KernelSet & { readonly exports: KernelExports } {
  const build = options.build ?? defaultBuild();
  // `bytes`: a module shipped elsewhere (a firmware image's runtime section) instead of build/.
  const ex = options.bytes
    ? checkLayout(new WebAssembly.Instance(compileKernels(options.bytes), {}).exports as unknown as KernelExports)
    : instantiateKernels(build);
  const memory = ex.memory;
  let userBytes = 0;

  const translate = (kernel: string, e: unknown): unknown => {
    if (!(e instanceof WebAssembly.RuntimeError)) return e;
    const code = ex.lastError();
    ex.clearError();
    return kernelError(kernel, code, e.message, userBytes);
  };
  const guard = <A extends number[]>(kernel: string, f: (...a: A) => void) => (...a: A): void => {
    try {
      f(...a);
    } catch (e) {
      throw translate(kernel, e);
    }
  };
  const kernels = Object.fromEntries(KERNEL_FUNCTIONS.map((name) => [name, guard(name, ex[name] as (...a: number[]) => void)])) as unknown as KernelFunctions;

  return {
    name: build === 'relaxed' ? 'wasm-relaxed-simd' : 'wasm-simd',
    exports: ex,
    get heap() { return memory.buffer; },
    ensureHeap(bytes: number): ArrayBuffer {
      if (!Number.isInteger(bytes) || bytes < 0) throw new RangeError(`ensureHeap: bytes must be a non-negative integer, got ${bytes}`);
      if (bytes > userBytes) {
        userBytes = bytes;
        const need = userBytes + HEAP_SLACK;
        if (need > memory.buffer.byteLength) memory.grow(Math.ceil((need - memory.buffer.byteLength) / PAGE));
      }
      return memory.buffer;
    },
    convWeightBytes: packedConvWeightBytes,
    convChannelGroup: packedChannelGroup,
    packConvWeights(k: 1 | 3, cin: number, cout: number, ohwi: Int8Array, dst: number, stride: number): void {
      packConvWeights(memory.buffer, userBytes, k, cin, cout, ohwi, dst, stride);
    },
    ...kernels,
  };
}
