// The on-chip memory: one fixed region at the start of the engine's heap
// region, [0, sram.bytes). Placement inside it is decided at compile time:
// resident tensors by the greedy memory planner (residency.ts), each layer's
// tile buffers in the largest gap they leave (compiler.ts). Kernels are only
// ever given pointers into this region; sramCheck() verifies that of a program.
import type { ChipConfig } from './chip-config.js';
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

  get used(): number {
    return this.at - this.start;
  }
}

/** SRAM bytes usable for placement (whole 16-byte lines). */
export function alignedSram(c: ChipConfig): number {
  return Math.floor(c.sram.bytes / 16) * 16;
}

/** Throws if any COMPUTE operand pointer or DMA SRAM end lies outside [0, sramBytes). */
export function sramCheck(instrs: readonly Instr[], sramBytes: number): void {
  const bad = (what: string, p: number) => {
    throw new Error(`internal: ${what} at ${p} lies outside the SRAM [0, ${sramBytes})`);
  };
  for (const ins of instrs) {
    if (ins.op === 'COMPUTE') {
      for (const key of ['in', 'in2', 'out', 'w', 'bias', 'mult', 'shift', 'lut'] as const) {
        const p = ins.a[key];
        if (p < 0 || p >= sramBytes) if (p !== 0) bad(`${ins.kind} ${key}`, p);
      }
    } else if (ins.op !== 'SYNC') {
      for (const b of ins.boxes) {
        const s = ins.op === 'LOAD' || ins.op === 'FETCH' ? b.dst : b.src;
        const end = s + (b.n1 - 1) * (ins.op === 'LOAD' || ins.op === 'FETCH' ? b.d1 : b.s1) + (b.n2 - 1) * (ins.op === 'LOAD' || ins.op === 'FETCH' ? b.d2 : b.s2) + b.len;
        if (s < 0 || end > sramBytes) bad(`${ins.op} of ${ins.tensor}`, s);
      }
    }
  }
}
