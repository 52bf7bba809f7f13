// The controller's instruction set. The compiler emits one flat stream; each
// instruction names the layer (graph op) it belongs to and the unit or DMA
// engine that runs it. Addresses are byte offsets inside the engine's heap
// region: SRAM is [0, sram.bytes), DRAM follows (see dram.ts, sram.ts).
//
//   LOAD    DRAM -> SRAM: an input tile with its halo, or a layer's weights/params
//   STORE   SRAM -> DRAM: an output tile
//   SPILL   SRAM -> DRAM: a whole resident tensor (skip tensor, attention map,
//           other feature map) whose SRAM is needed before its next use
//   FETCH   DRAM -> SRAM: a spilled tensor brought back whole before its next use
//   COMPUTE one kernel call on SRAM operands only
//   SYNC    barrier: the layer's instructions complete before the next layer starts
//
// Every data instruction lists the SRAM buffers it reads and writes (ids local
// to a layer); the timing model derives the dependencies (and so the overlap of
// double-buffered loads with compute) from them.
import type { Op, Unit } from '../../models/graph.js';

/**
 * A strided copy: for i < n1, j < n2: copy `len` bytes from src + i*s1 + j*s2
 * to dst + i*d1 + j*d2. One rectangle of an NHWC tensor: rows x pixels x channels.
 */
export interface Box {
  src: number;
  dst: number;
  n1: number;
  s1: number;
  d1: number;
  n2: number;
  s2: number;
  d2: number;
  len: number;
}

export type DmaOpcode = 'LOAD' | 'STORE' | 'SPILL' | 'FETCH';

export interface DmaInstr {
  op: DmaOpcode;
  layer: number;
  /** the DRAM-side object: a tensor name, or `<op>:params` for weights */
  tensor: string;
  /** one or more rectangles (a params LOAD moves weights, bias, multiplier, shift together) */
  boxes: Box[];
  bytes: number;
  /** contiguous runs moved (for burst efficiency) */
  runs: number;
  reads: number[];
  writes: number[];
}

export interface ComputeInstr {
  op: 'COMPUTE';
  layer: number;
  unit: Unit;
  kind: Op['kind'];
  /** kernel arguments: pointers (SRAM offsets) and geometry, by kind (see machine.ts) */
  a: ComputeArgs;
  macs: number;
  /** element-wise operations (0 for convs) */
  elements: number;
  /** cycles on the unit (filled by the compiler from units.ts) */
  cycles: number;
  /** SRAM bytes the kernel reads and writes (for the energy estimate) */
  sramBytes: number;
  reads: number[];
  writes: number[];
}

/** Operands of one kernel call. Unused fields are 0. */
export interface ComputeArgs {
  in: number;
  in2: number;
  out: number;
  /** params in SRAM: weights, bias, multiplier, shift, lookup table */
  w: number;
  bias: number;
  mult: number;
  shift: number;
  lut: number;
  inH: number;
  inW: number;
  outH: number;
  outW: number;
  /** channels of the (first) input */
  c: number;
  /** channels of the second input (concat) */
  c2: number;
  /** output channels computed (conv: the group) */
  cout: number;
  outPixelStride: number;
  padTop: number;
  padLeft: number;
  /** pixels for pointwise kernels */
  pixels: number;
}

export interface SyncInstr {
  op: 'SYNC';
  layer: number;
}

export type Instr = DmaInstr | ComputeInstr | SyncInstr;

export function emptyArgs(): ComputeArgs {
  return { in: 0, in2: 0, out: 0, w: 0, bias: 0, mult: 0, shift: 0, lut: 0, inH: 0, inW: 0, outH: 0, outW: 0, c: 0, c2: 0, cout: 0, outPixelStride: 0, padTop: 0, padLeft: 0, pixels: 0 };
}

export function boxRuns(b: Box): number {
  return b.n1 * b.n2;
}

export function boxBytes(b: Box): number {
  return b.n1 * b.n2 * b.len;
}

/**
 * The box that moves rows [r0, r1) x columns [c0, c1) x channels [k0, k1) of an
 * h x w x c NHWC tensor at `tensorAt` to or from a compact buffer at `bufAt`.
 * Runs are merged where the rectangle is contiguous (whole rows, whole pixels).
 */
export function rectBox(dir: 'in' | 'out', tensorAt: number, w: number, c: number, r0: number, r1: number, c0: number, c1: number, k0: number, k1: number, bufAt: number): Box {
  const rows = r1 - r0;
  const cols = c1 - c0;
  const ch = k1 - k0;
  const t0 = tensorAt + (r0 * w + c0) * c + k0;
  let tb: { n1: number; t1: number; b1: number; n2: number; t2: number; b2: number; len: number };
  if (ch === c && cols === w) tb = { n1: 1, t1: 0, b1: 0, n2: 1, t2: 0, b2: 0, len: rows * w * c };
  else if (ch === c) tb = { n1: rows, t1: w * c, b1: cols * c, n2: 1, t2: 0, b2: 0, len: cols * c };
  else tb = { n1: rows, t1: w * c, b1: cols * ch, n2: cols, t2: c, b2: ch, len: ch };
  return dir === 'in'
    ? { src: t0, dst: bufAt, n1: tb.n1, s1: tb.t1, d1: tb.b1, n2: tb.n2, s2: tb.t2, d2: tb.b2, len: tb.len }
    : { src: bufAt, dst: t0, n1: tb.n1, s1: tb.b1, d1: tb.t1, n2: tb.n2, s2: tb.b2, d2: tb.t2, len: tb.len };
}

/** A contiguous copy of `len` bytes. */
export function flatBox(src: number, dst: number, len: number): Box {
  return { src, dst, n1: 1, s1: 0, d1: 0, n2: 1, s2: 0, d2: 0, len };
}
