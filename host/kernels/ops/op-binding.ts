// How an op of the graph is bound to its kernels: the one place per op kind that
// both engines (the direct executor and the chip machine) use, in the shape of
// TFLite Micro's registrations (tensorflow/lite/micro/kernels/conv.cc with its
// Prepare in conv_common.cc, which the optimised kernels/cmsis_nn/conv.cc shares).
// The interpreter loops know nothing about op kinds: they ask the registry
// (registry.ts) for an op's binding and call it.
//
// Per op kind a binding gives:
//   planes    the persistent parameter arrays and their sizes (placed once by
//             param-placement.ts for the direct executor's heap and the chip's DRAM);
//   geometry  which input rows/columns an output rectangle reads, alignment and
//             whether output channels may be split: what a tiler or a row split needs;
//   prepare   everything derived from the model once, at load (TFLite's OpData:
//             zero points, requantization, clamps, padding): plain data, so it can be
//             handed to another thread;
//   bind      Eval over an output sub-range (OpCall: a rectangle of rows, columns and
//             output channels, with pointers to its operands and parameters) with the
//             caller's scratch: a closure over constant arguments, so a frame costs
//             the kernel calls only. The direct executor binds one call per op over
//             the whole tensor; the chip machine one per tile, with SRAM pointers.
//   work      MACs and element operations of a call (the chip's timing model).
import type { Graph, Op, Pads } from '../../../models/graph.js';
import type { QOpParams } from '../../../models/qmodel.js';
import type { KernelFunctions, KernelSet } from '../kernel-set.js';

export type OpKind = Op['kind'];
export type OpOf<K extends OpKind> = Extract<Op, { kind: K }>;
/** The model parameters of an op kind (undefined for kinds without any). */
export type ParamsOf<K extends OpKind> = [Extract<QOpParams, { kind: K }>] extends [never] ? undefined : Extract<QOpParams, { kind: K }>;

/** How a KernelSet packs conv weights: bytes per output channel, and channels packed together. */
export type WeightBytes = Pick<KernelSet, 'convWeightBytes' | 'convChannelGroup'>;
/** What a plane is written into: a heap, and the conv weight layout that goes with the plane's sizes (a KernelSet's packing, or the chip's int8). */
export type PlaneTarget = Pick<KernelSet, 'heap' | 'packConvWeights'>;

/** One persistent parameter array of an op. */
export interface ParamPlane<P = unknown> {
  /** 'weights', 'bias', 'multiplier', 'shift', 'lut' */
  name: string;
  category: 'weights' | 'params';
  /** bytes per output channel: a channel group takes the slice [o0, o1); 0: the plane is whole and every group needs all of it */
  perChannel: number;
  /** bytes of the whole plane */
  bytes: number;
  /**
   * Channels packed together (default 1): a channel range must start at a multiple of it,
   * and n channels take perChannel * n rounded up to whole groups.
   */
  channelGroup?: number;
  /** write the plane for the model's parameters at absolute heap offset `at` */
  write(target: PlaneTarget, p: P, at: number): void;
  /**
   * Output channels [o0, o1) of the plane in `kernels`' own layout, for an engine whose memory
   * holds the plane in another (the chip's int8 weights, host/chip/chip-weights.ts): its bytes
   * and a writer to an absolute heap offset. Absent: the kernels read the plane as placed.
   */
  kernelCopy?(kernels: KernelSet, p: P, o0: number, o1: number): { bytes: number; write(at: number): void };
}

/** Which rows (or columns) [lo, hi) of an input an output range [a, b) reads; hi may pass the input's end. */
export type Window = (a: number, b: number) => [number, number];

export interface OperandGeometry {
  tensor: string;
  rows: Window;
  cols: Window;
}

export interface OpGeometry {
  inputs: OperandGeometry[];
  /** output tile starts must be multiples of these (2 where the op maps 2 pixels to 1) */
  rowAlign: number;
  colAlign: number;
  /** output channels can be split into groups */
  groupable: boolean;
}

/** A rows x cols x channels box of a tensor held in a buffer: compact rows of `w` pixels of `c` channels. */
export interface TensorView {
  ptr: number;
  h: number;
  w: number;
  c: number;
  /** tensor coordinates of the buffer's first pixel */
  r0: number;
  c0: number;
}

/**
 * One call over an output sub-range: rows [y0, y1), columns [x0, x1) and channels
 * [o0, o1) of the output. Output pixel (y, x) channel o0 is at
 * out + ((y - y0) * (x1 - x0) + (x - x0)) * outPixelStride.
 */
export interface OpCall {
  y0: number;
  y1: number;
  x0: number;
  x1: number;
  o0: number;
  o1: number;
  /** one view per input, in opInputs order, covering what the rectangle reads */
  inputs: TensorView[];
  out: number;
  outPixelStride: number;
  /** per parameter plane: the address of channel o0's slice (of a whole plane: the plane) */
  params: number[];
}

/** Working memory a call may use (conv3x3's widened rows). */
export interface Scratch {
  ptr: number;
  bytes: number;
}

/** The work of one call, for the timing model. */
export interface Work {
  macs: number;
  /** element-wise operations (0 for MAC-array work) */
  elements: number;
  /** MAC-array work: output pixels, kernel size, input and output channels */
  macArray?: { pixels: number; k: number; cin: number; cout: number };
}

export interface OpBinding<O extends Op = Op, D = unknown> {
  readonly kind: O['kind'];
  planes(op: O, weightBytes: WeightBytes): ParamPlane<ParamsOf<O['kind']>>[];
  /** `pads`: the model's padding where it overrides the graph's (convs) */
  geometry(op: O, g: Graph, pads?: Pads): OpGeometry;
  prepare(op: O, p: ParamsOf<O['kind']>, zeroPoint: (tensor: string) => number): D;
  /** scratch bytes bind() will be given for `call` */
  scratchBytes(data: D, call: OpCall): number;
  bind(kernels: KernelFunctions, data: D, call: OpCall, scratch: Scratch): () => void;
  work(op: O, g: Graph, call: OpCall): Work;
}

/** Work of an element-wise call: `perValue` operations per output value. */
export function elementwiseWork(op: Op, g: Graph, c: OpCall, perValue = 1): Work {
  return { macs: 0, elements: perValue * callPixels(c) * g.tensors.get(op.output)!.c };
}

/** Output pixels of a call. */
export function callPixels(c: OpCall): number {
  return (c.y1 - c.y0) * (c.x1 - c.x0);
}

/** A parameter plane where it was placed (param-placement.ts). */
export interface PlaneAt {
  at: number;
  perChannel: number;
}

/**
 * The call over output rows [y0, y1), all columns, and channels [o0, o1) of `op`,
 * every operand in place in its whole tensor at `tensorAt(name)` (compact NHWC):
 * each input view starts at the first row its window reads. In place, a band spans
 * whole rows (a column tile's input is not compact; the chip copies it into SRAM).
 * The direct executor makes the whole-output call; a row or channel split of it
 * (one part per worker) is the same call over a band or group.
 */
export function bandCall(
  op: Op, g: Graph, geometry: OpGeometry, tensorAt: (t: string) => number, planes: readonly PlaneAt[],
  y0: number, y1: number, o0: number, o1: number,
): OpCall {
  const o = g.tensors.get(op.output)!;
  return {
    y0, y1, x0: 0, x1: o.w, o0, o1,
    inputs: geometry.inputs.map((i) => {
      const s = g.tensors.get(i.tensor)!;
      const [r0, r1] = i.rows(y0, y1);
      const end = Math.min(r1, s.h);
      return { ptr: tensorAt(i.tensor) + r0 * s.w * s.c, h: end - r0, w: s.w, c: s.c, r0, c0: 0 };
    }),
    out: tensorAt(op.output) + y0 * o.w * o.c + o0,
    outPixelStride: o.c,
    params: planes.map((p) => p.at + o0 * p.perChannel),
  };
}

/** The same call with every pointer moved by `base` (a region's offsets made heap addresses). */
export function relocate(c: OpCall, base: number): OpCall {
  return {
    ...c,
    inputs: c.inputs.map((v) => ({ ...v, ptr: v.ptr + base })),
    out: c.out + base,
    params: c.params.map((p) => p + base),
  };
}

/**
 * Refuse, at load, a call an element-wise kernel cannot make: those kernels walk
 * `pixels` compact pixels, so every input view must be exactly the output
 * rectangle and the output whole compact pixels.
 */
export function requirePointwise(kind: OpKind, c: OpCall, outChannels: number): void {
  const h = c.y1 - c.y0;
  const w = c.x1 - c.x0;
  const bad = c.inputs.find((v) => v.h !== h || v.w !== w);
  if (bad || c.outPixelStride !== outChannels || c.o0 !== 0 || c.o1 !== outChannels) {
    throw new Error(`internal: ${kind} needs compact ${h}x${w} operands and whole output pixels of ${outChannels} channels; got ${JSON.stringify({ inputs: c.inputs, o0: c.o0, o1: c.o1, outPixelStride: c.outPixelStride })}`);
  }
}

/** Geometry of an operand read pixel for pixel (element-wise ops). */
export function sameWindow(tensor: string): OperandGeometry {
  const id: Window = (a, b) => [a, b];
  return { tensor, rows: id, cols: id };
}

/**
 * A binding for an op that only resamples its one input with a fixed window
 * (max-pool, upsample): no parameters, no scratch, one kernel call over the
 * input box the output rows read.
 */
export function resamplingBinding<O extends Extract<Op, { input: string }>>(
  kind: O['kind'],
  window: Window,
  align: number,
  call: (kernels: KernelFunctions, input: TensorView, out: number) => void,
  work: (op: O, g: Graph, c: OpCall) => Work,
): OpBinding<O, Record<string, never>> {
  return {
    kind,
    planes: () => [],
    geometry: (op) => ({ inputs: [{ tensor: op.input, rows: window, cols: window }], rowAlign: align, colAlign: align, groupable: false }),
    prepare: () => ({}),
    scratchBytes: () => 0,
    bind(kernels, _d, c) {
      const input = c.inputs[0];
      const out = c.out;
      return () => call(kernels, input, out);
    },
    work,
  };
}
