// The host's shortcut for layers the chip tiles by output-channel groups (the convs): the chip computes
// each group of a tile in its own COMPUTE (weights for one group fit its SRAM), and a host
// kernel called per group would redo the per-call work on the same input each time (conv3x3's
// Winograd input transform and widening: up to a third of a 16-channel call). Here the first
// COMPUTE of a tile (stream order) computes every channel of the tile at once into a staging
// area outside the modelled memories and copies its own channels to its output; the tile's
// later COMPUTEs only copy theirs. Every COMPUTE still writes exactly the bytes it wrote
// before, when it did (a tile's input is the same bytes for all its groups: a layer never
// writes its own inputs), so the result is byte-identical and the chip's program and timing
// are untouched, as with the kernels' own weight copies (kernel-copies.ts).
import type { Program } from './compiler.js';
import type { Box, ComputeInstr } from './instructions.js';

export interface AheadStep {
  /** the tile's call over every output channel into the staging area (its first COMPUTE only) */
  wide: ComputeInstr | null;
  /** this COMPUTE's channels from the staging area to its output, at region offsets */
  copy: Box;
}

export interface AheadPlan {
  /** per index into program.instrs of a COMPUTE done ahead */
  steps: Map<number, AheadStep>;
  /** layers with COMPUTEs done ahead */
  layers: Set<number>;
  /** bytes of the staging area (the largest such layer's output) */
  bytes: number;
}

/** The plan for a program whose staging area starts at region offset `stagingAt`. */
export function groupsAhead(program: Program, stagingAt: number): AheadPlan {
  const steps = new Map<number, AheadStep>();
  const layers = new Set<number>();
  let bytes = 0;
  for (const L of program.layers) {
    const C = program.graph.tensors.get(L.op.output)!.c;
    // a group's COMPUTE reads its tile's whole input and writes channels computed independently (OpGeometry.groupable)
    if (L.tiling.group >= C) continue;
    const params = program.dram.params.ops[L.index]!.planes.map((p) => program.dram.base + p.at);
    // one staging slot per spatial tile: a tile's later groups may come after other tiles' (group-outer order)
    const slots = new Map<string, number>();
    let used = 0;
    for (let i = L.first; i < L.end; i++) {
      const ins = program.instrs[i];
      if (ins.op !== 'COMPUTE') continue;
      const c = ins.call;
      const key = `${c.y0},${c.y1},${c.x0},${c.x1}`;
      const pixels = (c.y1 - c.y0) * (c.x1 - c.x0);
      let at = slots.get(key);
      let wide: ComputeInstr | null = null;
      if (at === undefined) {
        at = stagingAt + used;
        slots.set(key, at);
        used += pixels * C;
        // the chip's SRAM holds this group's params only: the wide call reads every channel's from their DRAM copy, placed at load and never written
        wide = { ...ins, call: { ...c, o0: 0, o1: C, out: at, outPixelStride: C, params } };
      }
      steps.set(i, { wide, copy: { src: at + c.o0, dst: c.out, n1: 1, s1: 0, d1: 0, n2: pixels, s2: C, d2: c.outPixelStride, len: c.o1 - c.o0 } });
    }
    layers.add(L.index);
    bytes = Math.max(bytes, used);
  }
  return { steps, layers, bytes };
}
