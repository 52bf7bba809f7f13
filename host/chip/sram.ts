// The on-chip memory: one fixed region at the start of the engine's heap
// region, [0, sram.bytes). Placement inside it is decided at compile time:
// resident tensors by the greedy memory planner (residency.ts), each layer's
// tile buffers in the largest gap they leave (compiler.ts). Kernels are only
// ever given pointers into this region; sramCheck() verifies that of a program.
import type { ChipConfig } from './chip-config.js';
import { callPixels } from '../kernels/ops/op-binding.js';
import type { Instr } from './instructions.js';

/**
 * A layer's tile area: the free SRAM gap the residency plan leaves at that op,
 * handed out front to back (16-byte aligned) to the params, input and output
 * buffers of the tiling. Overflowing it is a compiler bug, so it throws.
 */
export class TileArea {
  private at: number;
  constructor(readonly start: number, readonly bytes: number) {
    this.at = start;
  }

  take(n: number): number {
    const a = this.at;
    this.at += Math.ceil(n / 16) * 16;
    if (this.at > this.start + this.bytes) throw new Error(`internal: tile buffers overflow the SRAM area [${this.start}, ${this.start + this.bytes})`);
    return a;
  }
}

/** SRAM bytes usable for placement (whole 16-byte lines). */
export function alignedSram(c: ChipConfig): number {
  return Math.floor(c.sram.bytes / 16) * 16;
}

/** Throws if any COMPUTE input view or output, or DMA SRAM side, reaches outside [0, sramBytes): kernels touch only SRAM. */
export function sramCheck(instrs: readonly Instr[], sramBytes: number): void {
  const check = (what: string, p: number, n: number) => {
    if (n > 0 && (p < 0 || p + n > sramBytes)) throw new Error(`internal: ${what} [${p}, ${p + n}) lies outside the SRAM [0, ${sramBytes})`);
  };
  for (const ins of instrs) {
    if (ins.op === 'COMPUTE') {
      const c = ins.call;
      c.inputs.forEach((v, j) => check(`${ins.kind} input ${j}`, v.ptr, v.h * v.w * v.c));
      const g = c.o1 - c.o0;
      check(`${ins.kind} output`, c.out, (callPixels(c) - 1) * c.outPixelStride + g);
    } else if (ins.op !== 'SYNC') {
      const toSram = ins.op === 'LOAD' || ins.op === 'FETCH';
      for (const b of ins.boxes) {
        const start = toSram ? b.dst : b.src;
        const end = start + (b.n1 - 1) * (toSram ? b.d1 : b.s1) + (b.n2 - 1) * (toSram ? b.d2 : b.s2) + b.len;
        check(`${ins.op} of ${ins.tensor}`, start, end - start);
      }
    }
  }
}
