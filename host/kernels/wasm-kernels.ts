// Loads the WebAssembly kernel module (build/kernels.<build>.wasm, made by
// scripts/build-wasm.js from assembly/) and wraps it as a KernelSet. The relaxed-SIMD
// build is picked only when this engine validates relaxed SIMD (Node 20 needs
// --experimental-wasm-relaxed-simd), else the plain SIMD build. The module imports
// nothing; a kernel that rejects an argument records a code and traps, and the
// trap is rethrown here as a WasmKernelError naming the kernel and the problem.
// Memory: the caller's buffers occupy [0, ensureHeap(bytes)); past them (plus a
// little slack for vector over-reads) lies the kernels' scratch region.
import { readFileSync } from 'node:fs';
import type { KernelSet } from './kernel-set.js';
import { pathToFileURL } from 'node:url';
import { packageFile } from '../../common/package-root.js';

export type WasmBuild = 'simd' | 'relaxed' | 'debug';

/** Exports of the kernel module (assembly/index.ts); pointers are byte offsets. */
export interface KernelExports {
  readonly memory: WebAssembly.Memory;
  conv3x3(inPtr: number, inH: number, inW: number, cin: number, inZp: number,
    outPtr: number, outH: number, outW: number, outPixelStride: number, cout: number,
    stride: number, padTop: number, padLeft: number,
    wPtr: number, biasPtr: number, multPtr: number, shiftPtr: number,
    outZp: number, actMin: number, actMax: number): void;
  conv1x1(inPtr: number, pixels: number, cin: number, inZp: number,
    outPtr: number, outPixelStride: number, cout: number,
    wPtr: number, biasPtr: number, multPtr: number, shiftPtr: number,
    outZp: number, actMin: number, actMax: number): void;
  maxpool2x2(inPtr: number, inH: number, inW: number, c: number, outPtr: number): void;
  upsample2x(inPtr: number, inH: number, inW: number, c: number, outPtr: number): void;
  requantCopy(inPtr: number, pixels: number, c: number, inZp: number, mult: number, shift: number, outZp: number,
    outPtr: number, outPixelStride: number): void;
  add(aPtr: number, bPtr: number, n: number, aZp: number, bZp: number, leftShift: number,
    aMult: number, aShift: number, bMult: number, bShift: number,
    outMult: number, outShift: number, outZp: number, actMin: number, actMax: number, outPtr: number): void;
  lut(inPtr: number, n: number, lutPtr: number, outPtr: number): void;
  gateMul(aPtr: number, skipPtr: number, h: number, w: number, c: number, skipZp: number,
    mult: number, shift: number, outZp: number, actMin: number, actMax: number, outPtr: number): void;
  affine(inPtr: number, pixels: number, c: number, inZp: number,
    wPtr: number, biasPtr: number, multPtr: number, shiftPtr: number,
    outZp: number, actMin: number, actMax: number, outPtr: number): void;
  setScratch(ptr: number, bytes: number): void;
  lastError(): number;
  clearError(): void;
  /** 1: plain SIMD, 2: relaxed SIMD */
  variant(): number;
}

/** Codes of assembly/kernels/errors.ts */
const KERNEL_ERRORS: Record<number, string> = {
  1: 'zero point outside [-128, 127]',
  2: 'activation range not within [-128, 127] or actMin > actMax',
  3: 'stride must be 1 or 2',
  4: 'padding must be 0, 1 or 2 per side',
  5: 'invalid tensor shape',
  6: 'scratch region too small for one row of this convolution',
  7: 'shift outside its range (requant shift [-31, 30]; add: input shifts <= 0, leftShift [0, 23])',
  8: 'multiplier must be in [0, 2^31)',
  9: 'invalid channel count or output pixel stride smaller than the channel count',
};

export class WasmKernelError extends Error {
  constructor(readonly kernel: string, readonly code: number, detail: string) {
    super(`wasm kernel ${kernel}: ${detail}`);
    this.name = 'WasmKernelError';
  }
}

/** Bytes the kernels may read past the end of a buffer (vector over-reads, always multiplied by 0). */
export const HEAP_SLACK = 64;
/** Default kernel scratch: conv3x3 widens bands of input rows into it. */
export const DEFAULT_SCRATCH_BYTES = 1 << 20;

const PAGE = 65536;
// (module (func (param v128 v128 v128) (result v128) i32x4.relaxed_dot_i8x16_i7x16_add_s))
const RELAXED_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 8, 1, 96, 3, 123, 123, 123, 1, 123, 3, 2, 1, 0,
  7, 5, 1, 1, 102, 0, 0, 10, 13, 1, 11, 0, 32, 0, 32, 1, 32, 2, 253, 147, 2, 11]);

/** Whether this engine accepts relaxed-SIMD instructions. */
export function relaxedSimdSupported(): boolean {
  return WebAssembly.validate(RELAXED_PROBE);
}

export function wasmFile(build: WasmBuild): URL {
  return pathToFileURL(packageFile(`build/kernels.${build}.wasm`));
}

/** The build createWasmKernels picks when none is forced. */
export function defaultBuild(): WasmBuild {
  return relaxedSimdSupported() ? 'relaxed' : 'simd';
}

const modules = new Map<WasmBuild, WebAssembly.Module>();

function compile(build: WasmBuild): WebAssembly.Module {
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
    m = new WebAssembly.Module(new Uint8Array(bytes));
    modules.set(build, m);
  }
  return m;
}

/** Instantiate the raw module (no imports) for a build. */
export function instantiateKernels(build: WasmBuild): KernelExports {
  return new WebAssembly.Instance(compile(build), {}).exports as unknown as KernelExports;
}

/**
 * A KernelSet over the WebAssembly kernels. `build` forces a module (tests and
 * benchmarks); by default relaxed SIMD when the engine has it, else plain SIMD.
 */
export function createWasmKernels(options: { build?: WasmBuild; scratchBytes?: number; bytes?: Uint8Array } = {}): KernelSet & { readonly exports: KernelExports } {
  const build = options.build ?? defaultBuild();
  const scratchBytes = options.scratchBytes ?? DEFAULT_SCRATCH_BYTES;
  // `bytes`: a module shipped elsewhere (a firmware image's runtime section) instead of build/.
  const ex = options.bytes
    ? (new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array(options.bytes)), {}).exports as unknown as KernelExports)
    : instantiateKernels(build);
  const memory = ex.memory;
  let userBytes = 0;

  const place = () => {
    const scratch = Math.ceil((userBytes + HEAP_SLACK) / 64) * 64;
    const need = scratch + scratchBytes + HEAP_SLACK;
    if (need > memory.buffer.byteLength) memory.grow(Math.ceil((need - memory.buffer.byteLength) / PAGE));
    ex.setScratch(scratch, scratchBytes);
  };
  place();

  const translate = (kernel: string, e: unknown): unknown => {
    if (!(e instanceof WebAssembly.RuntimeError)) return e;
    const code = ex.lastError();
    ex.clearError();
    const detail = KERNEL_ERRORS[code] ?? `trap: ${e.message} (a pointer or size outside the heap of ${userBytes} bytes?)`;
    return new WasmKernelError(kernel, code, detail);
  };
  const guard = <A extends number[]>(kernel: string, f: (...a: A) => void) => (...a: A): void => {
    try {
      f(...a);
    } catch (e) {
      throw translate(kernel, e);
    }
  };

  return {
    name: build === 'relaxed' ? 'wasm-relaxed-simd' : 'wasm-simd',
    exports: ex,
    get heap() { return memory.buffer; },
    ensureHeap(bytes: number): ArrayBuffer {
      if (!Number.isInteger(bytes) || bytes < 0) throw new RangeError(`ensureHeap: bytes must be a non-negative integer, got ${bytes}`);
      if (bytes > userBytes) {
        userBytes = bytes;
        place();
      }
      return memory.buffer;
    },
    convWeightBytes(k: 1 | 3, cin: number): number {
      return k === 3 ? 3 * ((3 * cin + 7) & ~7) * 2 : ((cin + 7) & ~7) * 2;
    },
    packConvWeights(k: 1 | 3, cin: number, cout: number, ohwi: Int8Array, dst: number): void {
      const n = k * k * cin * cout;
      if (ohwi.length !== n) throw new RangeError(`packConvWeights: expected ${n} OHWI weights (${cout}x${k}x${k}x${cin}), got ${ohwi.length}`);
      if (dst % 2 !== 0) throw new RangeError(`packConvWeights: destination ${dst} must be 2-byte aligned (16 recommended)`);
      const perChannel = this.convWeightBytes(k, cin);
      if (dst + perChannel * cout > userBytes) throw new RangeError(`packConvWeights: [${dst}, ${dst + perChannel * cout}) lies outside the heap of ${userBytes} bytes`);
      const out = new Int16Array(memory.buffer, dst, (perChannel * cout) >> 1);
      out.fill(0);
      if (k === 1) {
        const stride = perChannel >> 1;
        for (let o = 0; o < cout; o++) for (let c = 0; c < cin; c++) out[o * stride + c] = ohwi[o * cin + c];
      } else {
        const run = (3 * cin + 7) & ~7;
        // per output channel and kernel row: the 3 taps' cin values contiguous, zero-padded to `run`
        for (let o = 0; o < cout; o++) {
          for (let ky = 0; ky < 3; ky++) {
            const d = (o * 3 + ky) * run;
            const s = ((o * 3 + ky) * 3) * cin;
            for (let i = 0; i < 3 * cin; i++) out[d + i] = ohwi[s + i];
          }
        }
      }
    },
    conv3x3: guard('conv3x3', ex.conv3x3),
    conv1x1: guard('conv1x1', ex.conv1x1),
    maxpool2x2: guard('maxpool2x2', ex.maxpool2x2),
    upsample2x: guard('upsample2x', ex.upsample2x),
    requantCopy: guard('requantCopy', ex.requantCopy),
    add: guard('add', ex.add),
    lut: guard('lut', ex.lut),
    gateMul: guard('gateMul', ex.gateMul),
    affine: guard('affine', ex.affine),
  };
}
