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
//   COMPUTE one op binding call (host/kernels/ops) over a tile, on SRAM operands only (conv weights: the kernels' copy, kernel-copies.ts)
//   SYNC    barrier: the layer's instructions complete before the next layer starts
//
// Every data instruction lists the SRAM buffers it reads and writes (ids local
// to a layer); the timing model derives the dependencies (and so the overlap of
// double-buffered loads with compute) from them.
import type { Op, Unit } from '../../models/graph.js';
import type { OpCall } from '../kernels/ops/op-binding.js';

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
  /** the op's binding call over this tile: output rectangle, SRAM offsets of its operands and params */
  call: OpCall;
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

export interface SyncInstr {
  op: 'SYNC';
  layer: number;
}

export type Instr = DmaInstr | ComputeInstr | SyncInstr;
