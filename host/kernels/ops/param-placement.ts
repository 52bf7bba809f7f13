// Where every op's parameters go: one placement, used by the direct executor
// (its persistent heap region) and by the chip's DRAM layout. Ops in graph order,
// each op's planes in its binding's order, every plane 16-byte aligned. A group
// of output channels copied elsewhere (a chip tile's params in SRAM) is laid out
// by the same rule over its channels (planeLayout).
import type { Graph } from '../../../models/graph.js';
import type { QModel, QOpParams } from '../../../models/qmodel.js';
import type { ParamPlane, PlaneTarget, WeightBytes } from './op-binding.js';
import { opPlanes } from './registry.js';

export const PARAM_ALIGN = 16;
const align = (n: number) => Math.ceil(n / PARAM_ALIGN) * PARAM_ALIGN;

export interface PlacedPlane {
  plane: ParamPlane<QOpParams>;
  /** offset from the placement's start */
  at: number;
}

export interface PlacedParams {
  /** offset of the op's first plane */
  at: number;
  planes: PlacedPlane[];
}

export interface ParamPlacement {
  /** per op index; undefined for an op without parameters */
  ops: (PlacedParams | undefined)[];
  bytes: number;
}

/** Bytes of plane `plane` for `channels` output channels (whole groups; a whole plane: all of it). */
export function planeBytes(plane: ParamPlane<unknown>, channels: number): number {
  const g = plane.channelGroup ?? 1;
  return plane.perChannel ? plane.perChannel * Math.ceil(channels / g) * g : plane.bytes;
}

/** Offsets of the planes, packed for `channels` output channels, and their total (aligned) bytes. */
export function planeLayout(planes: readonly ParamPlane<unknown>[], channels: number): { offsets: number[]; bytes: number } {
  let at = 0;
  const offsets = planes.map((p) => {
    const o = at;
    at += align(planeBytes(p, channels));
    return o;
  });
  return { offsets, bytes: at };
}

export function placeParams(g: Graph, weightBytes: WeightBytes): ParamPlacement {
  let at = 0;
  const ops = g.ops.map((op): PlacedParams | undefined => {
    const planes = opPlanes(op, weightBytes);
    if (!planes.length) return undefined;
    const layout = planeLayout(planes, g.tensors.get(op.output)!.c);
    const placed = { at, planes: planes.map((plane, i) => ({ plane, at: at + layout.offsets[i] })) };
    at += layout.bytes;
    return placed;
  });
  return { ops, bytes: at };
}

/** Write every op's parameters of `model` at `base` + their offsets in `target`'s heap (in the layout the placement's sizes assume). */
export function writeParams(target: PlaneTarget, placement: ParamPlacement, g: Graph, model: QModel, base: number): void {
  placement.ops.forEach((placed, i) => {
    if (!placed) return;
    const p = model.ops[g.ops[i].name];
    for (const { plane, at } of placed.planes) plane.write(target, p, base + at);
  });
}
