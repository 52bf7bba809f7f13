// The host's shortcut for layers the chip tiles by output-channel groups (the convs): the chip computes
// each group of a tile in its own COMPUTE (weights for one group fit its SRAM), and a host
// kernel called per group would redo the per-call work on the same input each time (conv3x3's
// Winograd input transform and widening: up to a third of a 16-channel call). Likewise for 3x3
// convs tiled by rows where the host kernel's Winograd tiles are cut (cutsTiles). Here the layer's
// first COMPUTE (stream order) computes the whole layer — every tile, every channel — in one
// call into a staging area outside the modelled memories, reading the input where the layer's
// LOADs read it (its DRAM copy, or the SRAM holding of a resident input: complete before the
// layer starts, and no COMPUTE of a layer writes its own inputs), and copies its own box to its
// output; the layer's later COMPUTEs only copy theirs. One call over the whole layer divides
// over the threads as the direct engine's does: per tile, a tile of odd rows (the Winograd path
// computes whole tiles of 4 rows; of 2 or 4 when this was measured) and a few coarse parts per
// tile left a thread idle (seed dec1.conv1, tiles of 21 and 11 rows: 15-18 ms at 2 threads
// against the direct engine's 12.6).
// Every COMPUTE still writes exactly the bytes it wrote before, when it did, so the result is
// byte-identical and the chip's program and timing are untouched, as with the kernels' own weight
// copies (kernel-copies.ts). The layer's LOADs (input tiles, params slices) that only its COMPUTEs
// read are left to the program (`unread`): the wide call reads the input and every channel's
// params where the chip's LOADs read them, so the host skips copies nobody reads (on the seed
// 17.7 MB a frame), as it skips the conv weight slices; the machine built with groupsAhead false
// runs and reads them (the equivalence tests run both).
import { bandCall, type OpGeometry } from '../kernels/ops/op-binding.js';
import { winogradTile } from '../kernels/weight-packing.js';
import type { Program } from './compiler.js';
import { holdingAt } from './residency.js';
import type { Box, ComputeInstr } from './instructions.js';

export interface AheadStep {
  /** the layer's call over every output pixel and channel into the staging area (its first COMPUTE only; of the instruction, only `layer` and `call` are read) */
  wide: ComputeInstr | null;
  /** this COMPUTE's box from the staging area to its output, at region offsets */
  copy: Box;
}

export interface AheadPlan {
  /** per index into program.instrs of a COMPUTE done ahead */
  steps: Map<number, AheadStep>;
  /** layers with COMPUTEs done ahead */
  layers: Set<number>;
  /** bytes of the staging area (the largest such layer's output) */
  bytes: number;
  /** indices into program.instrs of LOADs that only COMPUTEs done ahead read: the host does not copy them */
  unread: Set<number>;
}

/** The plan of a machine that computes every COMPUTE on its own (a fresh one: a plan holds mutable collections). */
export function noAhead(): AheadPlan {
  return { steps: new Map(), layers: new Set(), bytes: 0, unread: new Set() };
}

/**
 * The plan for a program whose staging area starts at region offset `stagingAt`; `geometry(i)`:
 * layer i's op geometry with the model's padding (the direct engine's, for the same whole-layer call).
 */
export function groupsAhead(program: Program, stagingAt: number, geometry: (layer: number) => OpGeometry): AheadPlan {
  const steps = new Map<number, AheadStep>();
  const layers = new Set<number>();
  let bytes = 0;
  const g = program.graph;
  for (const L of program.layers) {
    const out = g.tensors.get(L.op.output)!;
    const C = out.c;
    // a group's COMPUTE reads its tile's whole input and writes channels computed independently (OpGeometry.groupable);
    // a conv tiled by rows at rows the kernel's Winograd tiles do not start at (cutsTiles) computes rows it discards
    if (L.tiling.group >= C && !cutsTiles(program, L.index)) continue;
    const geo = geometry(L.index);
    const tensorAt = (t: string) => (t === L.op.output ? stagingAt : inputAt(program, L.index, t, geo.inputs.findIndex((i) => i.tensor === t)));
    // the chip's SRAM holds one group's params: the whole call reads every channel's from their DRAM copy, placed at load and never written
    const planes = program.dram.params.ops[L.index]!.planes.map((p) => ({ at: program.dram.base + p.at, perChannel: p.plane.perChannel }));
    for (let i = L.first; i < L.end; i++) {
      const ins = program.instrs[i];
      if (ins.op !== 'COMPUTE') continue;
      const first = !layers.has(L.index);
      layers.add(L.index);
      const c = ins.call;
      const cols = c.x1 - c.x0;
      steps.set(i, {
        wide: first ? { ...ins, call: bandCall(L.op, g, geo, tensorAt, planes, 0, out.h, 0, C) } : null,
        // output pixel (y, x) of the call is at out + ((y - y0) * cols + x - x0) * outPixelStride
        copy: { src: stagingAt + (c.y0 * out.w + c.x0) * C + c.o0, dst: c.out, n1: c.y1 - c.y0, s1: out.w * C, d1: cols * c.outPixelStride, n2: cols, s2: C, d2: c.outPixelStride, len: c.o1 - c.o0 },
      });
    }
    bytes = Math.max(bytes, out.h * out.w * C);
  }
  return { steps, layers, bytes, unread: unreadLoads(program, layers, steps) };
}

/**
 * The LOADs of the layers done ahead whose SRAM buffers no instruction but a COMPUTE done ahead
 * reads (buffer ids are local to a layer, so only the layer's later instructions can read them).
 */
function unreadLoads(program: Program, layers: ReadonlySet<number>, steps: ReadonlyMap<number, AheadStep>): Set<number> {
  const unread = new Set<number>();
  for (const index of layers) {
    const L = program.layers[index];
    for (let i = L.first; i < L.end; i++) {
      const ins = program.instrs[i];
      if (ins.op !== 'LOAD') continue;
      let read = false;
      for (let j = i + 1; j < L.end && !read; j++) {
        const r = program.instrs[j];
        read = r.op !== 'SYNC' && !steps.has(j) && r.reads.some((b) => ins.writes.includes(b));
      }
      if (!read) unread.add(i);
    }
  }
  return unread;
}

/**
 * Whether layer i is a 3x3 conv whose tiles start at rows inside the host kernel's Winograd tiles
 * (winogradTile: 4 output rows): called per tile it would compute the rows around each cut
 * twice and discard them (the seed at the default SRAM: tiles of 21 rows, 14 % of the work again).
 */
function cutsTiles(program: Program, i: number): boolean {
  const L = program.layers[i];
  if (L.op.kind !== 'conv' || L.op.k !== 3) return false;
  const t = winogradTile(L.op.stride, L.op.cin);
  if (t === 0) return false;
  for (let k = L.first; k < L.end; k++) {
    const ins = program.instrs[k];
    if (ins.op === 'COMPUTE' && ins.call.y0 % t !== 0) return true;
  }
  return false;
}

/** Region offset of layer i's input `t` (its j-th) where the layer reads it: its SRAM holding when resident, else its DRAM copy. */
function inputAt(program: Program, i: number, t: string, j: number): number {
  if (program.layers[i].inputsResident[j]) {
    const h = holdingAt(program.residency, t, i);
    if (h) return h.offset;
  } else {
    const at = program.dram.tensors.get(t);
    if (at !== undefined) return at;
  }
  throw new Error(`internal: input ${t} of layer ${i} is neither held in SRAM nor in DRAM there`);
}
