// Wasmtime as a second engine for the kernel module: recordKernels() wraps a WebAssembly
// KernelSet and records every kernel call it makes, with the module's memory as it was at
// the first call; replayInWasmtime() hands the record to replay.py (the `wasmtime` Python
// package), which repeats the calls on the same bytes and returns the memory they leave.
// Equal memories mean the two engines computed every byte alike.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KernelSet } from '../../../../host/kernels/kernel-set.js';
import { createWasmKernels, wasmFile, type WasmBuild } from '../../../../host/kernels/wasm-kernels.js';
import { KERNEL_FUNCTIONS } from '../../../../host/kernels/kernel-set.js';

/** Python with the `wasmtime` package (.ci/run installs it with pip). */
export const PYTHON = process.env.AUNET_WASMTIME_PYTHON ?? 'python3';
const REPLAY = new URL('./replay.py', import.meta.url).pathname;

export interface KernelTrace {
  /** the module's memory at the first recorded call */
  heap: Uint8Array;
  /** the kernel calls in order: [export name, ...arguments] (scratch regions are arguments) */
  calls: (string | number)[][];
}

/** A KernelSet that runs `ks` and records the calls; take() returns the record so far and starts a new one. */
export function recordKernels(ks: ReturnType<typeof createWasmKernels>): { kernels: KernelSet; take(): KernelTrace } {
  let trace: KernelTrace | null = null;
  const rec = Object.create(ks) as KernelSet; // heap, packing and the rest read through to ks
  for (const name of KERNEL_FUNCTIONS) {
    const f = ks[name] as (...a: number[]) => void;
    Object.defineProperty(rec, name, {
      value: (...args: number[]) => {
        trace ??= { heap: new Uint8Array(ks.heap).slice(), calls: [] };
        trace.calls.push([name, ...args]);
        f(...args);
      },
    });
  }
  return {
    kernels: rec,
    take() {
      if (!trace) throw new Error('recordKernels: no kernel call recorded');
      const t = trace;
      trace = null;
      return t;
    },
  };
}

function withTraceDir<T>(build: WasmBuild, trace: KernelTrace, f: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'aunet-wasmtime-'));
  try {
    writeFileSync(join(dir, 'heap.bin'), trace.heap);
    writeFileSync(join(dir, 'trace.json'), JSON.stringify({
      module: wasmFile(build).pathname, relaxed: build === 'relaxed', heapBytes: trace.heap.length, calls: trace.calls,
    }));
    return f(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Run replay.py; returns its stdout. */
function python(args: string[]): string {
  const r = spawnSync(PYTHON, [REPLAY, ...args], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.error || r.status !== 0) {
    const why = r.error?.message ?? r.stderr.trim().split('\n').slice(-4).join('\n');
    throw new Error(`Wasmtime replay failed (${PYTHON} ${REPLAY}; needs the wasmtime Python package: ${PYTHON} -m pip install wasmtime): ${why}`);
  }
  return r.stdout;
}

/** Replay `trace` with `build`'s module under Wasmtime; returns the module's memory after the last call. */
export function replayInWasmtime(build: WasmBuild, trace: KernelTrace): Uint8Array {
  return withTraceDir(build, trace, (dir) => {
    const out = join(dir, 'out.bin');
    python([dir, out]);
    return new Uint8Array(readFileSync(out));
  });
}

/** Best milliseconds of each call of `trace` under Wasmtime over `reps` runs (after one warm-up run). */
export function timeInWasmtime(build: WasmBuild, trace: KernelTrace, reps: number): number[] {
  return withTraceDir(build, trace, (dir) => {
    const line = python([dir, '--time', String(reps)]).trim().split('\n').pop()!;
    return (JSON.parse(line) as { best_ms: number[] }).best_ms;
  });
}
