// Tile shapes: for one layer, which output rectangle (a band of rows, a range of
// columns, a group of output channels) each tile computes, what input region it
// needs (the halo of a 3x3 conv included), and how many SRAM bytes its working
// set takes. chooseTiling() searches the shapes that fit a budget and keeps the
// one that moves the fewest DRAM bytes: whole-width row bands first, then
// column tiles, then output-channel groups, as the budget shrinks.
import type { Graph, Op, Pads } from '../../models/graph.js';
import type { ParamPlane, WeightBytes, Window } from '../kernels/ops/op-binding.js';
import { planeBytes, planeLayout } from '../kernels/ops/param-placement.js';
import { opGeometry, opPlanes } from '../kernels/ops/registry.js';

export const ALIGN = 16;
export const align = (n: number) => Math.ceil(n / ALIGN) * ALIGN;


export interface OperandGeom {
  tensor: string;
  h: number;
  w: number;
  c: number;
  /** input rows [r0, r1) an output row band [y0, y1) reads (r1 may pass h) */
  rows: Window;
  cols: Window;
}

/** Everything the tiler and the compiler need to know about one layer (its op's binding geometry and params, with shapes). */
export interface LayerGeom {
  op: Op;
  index: number;
  inputs: OperandGeom[];
  out: { tensor: string; h: number; w: number; c: number };
  /** tile starts must be multiples of these (2 where the op maps 2 pixels to 1) */
  rowAlign: number;
  colAlign: number;
  /** output channels can be split into groups */
  groupable: boolean;
  /** output channels the unit computes in parallel (atomic-K): groups are multiples of it when they can be */
  groupQuantum: number;
  /** channel groups must be multiples of this (the kernels pack that many channels together) */
  groupAlign: number;
  /** the op's parameter planes (sizes), in placement order */
  planes: ParamPlane<unknown>[];
  /** SRAM bytes of the params of `g` output channels, laid out as a params LOAD writes them */
  paramBytes(g: number): number;
  /** DRAM bytes of all params */
  paramTotal: number;
}

export function layerGeom(g: Graph, index: number, weightBytes: WeightBytes, pads?: Pads, groupQuantum = 1): LayerGeom {
  const op = g.ops[index];
  const o = g.tensors.get(op.output)!;
  const geo = opGeometry(op, g, pads);
  const planes = opPlanes(op, weightBytes);
  return {
    op,
    index,
    inputs: geo.inputs.map((i) => {
      const s = g.tensors.get(i.tensor)!;
      return { tensor: i.tensor, h: s.h, w: s.w, c: s.c, rows: i.rows, cols: i.cols };
    }),
    out: { tensor: op.output, h: o.h, w: o.w, c: o.c },
    rowAlign: geo.rowAlign,
    colAlign: geo.colAlign,
    groupable: geo.groupable,
    groupQuantum,
    groupAlign: Math.max(1, ...planes.map((p) => p.channelGroup ?? 1)),
    planes,
    // an op whose channels do not split always holds all of its params
    paramBytes: (n: number) => planeLayout(planes, geo.groupable ? n : o.c).bytes,
    paramTotal: planes.reduce((sum, p) => sum + planeBytes(p, o.c), 0),
  };
}

export type LoopOrder = 'group-outer' | 'spatial-outer';

export interface Tiling {
  rows: number;
  cols: number;
  group: number;
  order: LoopOrder;
  /** two buffers per streamed operand, so loads overlap compute */
  doubleBuffered: boolean;
  /** SRAM bytes of the working set */
  bytes: number;
  /** DRAM bytes this tiling moves (inputs, params, output) */
  traffic: number;
  tiles: number;
}

/** Which operands are resident in SRAM (no tile buffer, no DMA). */
export interface Residency {
  inputs: boolean[];
  out: boolean;
}

/** Output row (or column) ranges of a tiling along one axis. */
export function ranges(n: number, step: number): [number, number][] {
  const r: [number, number][] = [];
  for (let a = 0; a < n; a += step) r.push([a, Math.min(n, a + step)]);
  return r;
}

/** Largest extent along one axis of the input region over the tiles of `step` outputs. */
function maxExtent(n: number, step: number, lim: number, f: (a: number, b: number) => [number, number]): number {
  let m = 0;
  for (let a = 0; a < n; a += step) {
    const [r0, r1] = f(a, Math.min(n, a + step));
    m = Math.max(m, Math.min(r1, lim) - r0);
  }
  return m;
}

/** SRAM bytes of the largest tile's buffers (inputs, output) for an R x Wt x g tiling. */
export function tileBuffers(L: LayerGeom, res: Residency, R: number, Wt: number, g: number): { inBytes: number[]; outBytes: number } {
  const inBytes = L.inputs.map((inp, i) => {
    if (res.inputs[i]) return 0;
    return align(maxExtent(L.out.h, R, inp.h, inp.rows) * maxExtent(L.out.w, Wt, inp.w, inp.cols) * inp.c);
  });
  const outBytes = res.out ? 0 : align(R * Wt * g);
  return { inBytes, outBytes };
}

/** Params buffers: two when they change between computes (several groups) and the tiling is double-buffered. */
export function paramBuffers(L: LayerGeom, g: number, _order: LoopOrder, db: boolean): number {
  return db && Math.ceil(L.out.c / g) > 1 ? 2 : 1;
}

function workingSet(L: LayerGeom, res: Residency, R: number, Wt: number, g: number, order: LoopOrder, db: boolean): number {
  const { inBytes, outBytes } = tileBuffers(L, res, R, Wt, g);
  const k = db ? 2 : 1;
  return paramBuffers(L, g, order, db) * L.paramBytes(g) + k * inBytes.reduce((s, b) => s + b, 0) + k * outBytes;
}

function traffic(L: LayerGeom, res: Residency, R: number, Wt: number, g: number, order: LoopOrder): number {
  const bands = ranges(L.out.h, R);
  const colTiles = ranges(L.out.w, Wt);
  let inSum = 0;
  L.inputs.forEach((inp, i) => {
    if (res.inputs[i]) return;
    let rows = 0;
    for (const [a, b] of bands) {
      const [r0, r1] = inp.rows(a, b);
      rows += Math.min(r1, inp.h) - r0;
    }
    let cols = 0;
    for (const [a, b] of colTiles) {
      const [c0, c1] = inp.cols(a, b);
      cols += Math.min(c1, inp.w) - c0;
    }
    inSum += rows * cols * inp.c;
  });
  const groups = Math.ceil(L.out.c / g);
  const outBytes = res.out ? 0 : L.out.h * L.out.w * L.out.c;
  const spatial = bands.length * colTiles.length;
  if (groups === 1) return inSum + L.paramTotal + outBytes;
  return order === 'group-outer' ? groups * inSum + L.paramTotal + outBytes : inSum + spatial * L.paramTotal + outBytes;
}

function lcm(a: number, b: number): number {
  let x = a, y = b;
  while (y) [x, y] = [y, x % y];
  return (a / x) * b;
}

function options(n: number, alignTo: number): number[] {
  const out: number[] = [];
  for (let v = n; ; v = Math.ceil(v / 2)) {
    const a = v >= n ? n : Math.max(alignTo, Math.ceil(v / alignTo) * alignTo);
    if (!out.includes(a)) out.push(a);
    if (v <= alignTo) break;
  }
  return out;
}

/**
 * The tiling that fits `budget` SRAM bytes and moves the fewest DRAM bytes
 * (within SLACK of the fewest bytes: double-buffered first, then fewest tiles); null when even the smallest tile does not fit.
 * A resident operand is addressed in place, which needs whole-width bands.
 */
export function chooseTiling(L: LayerGeom, res: Residency, budget: number): Tiling | null {
  const anyResident = res.out || res.inputs.some(Boolean);
  const colOpts = anyResident ? [L.out.w] : options(L.out.w, L.colAlign);
  // A group narrower than the unit's atomic-K leaves MAC lanes idle: try whole multiples of it
  // first, and narrower groups only when nothing else fits.
  const q = Math.min(lcm(L.groupQuantum, L.groupAlign), L.out.c);
  const all = L.groupable ? options(L.out.c, L.groupAlign) : [L.out.c];
  const wide = L.groupable ? [...new Set(options(Math.ceil(L.out.c / q), 1).map((m) => Math.min(L.out.c, m * q)))] : all;
  return search(L, res, budget, colOpts, wide) ?? (wide.length < all.length ? search(L, res, budget, colOpts, all.filter((g) => !wide.includes(g))) : null);
}

function search(L: LayerGeom, res: Residency, budget: number, colOpts: number[], groupOpts: number[]): Tiling | null {
  let best: Tiling | null = null;
  const all: Tiling[] = [];
  const better = (t: Tiling, b: Tiling) => t.traffic < b.traffic || (t.traffic === b.traffic && (t.tiles < b.tiles || (t.tiles === b.tiles && t.doubleBuffered && !b.doubleBuffered)));
  for (const Wt of colOpts) {
    for (const g of groupOpts) {
      const orders: LoopOrder[] = g < L.out.c ? ['group-outer', 'spatial-outer'] : ['group-outer'];
      for (const order of orders) {
        for (const db of [true, false]) {
          const R = maxRows(L, res, Wt, g, order, db, budget);
          if (R === 0) continue;
          const tiles = Math.ceil(L.out.h / R) * Math.ceil(L.out.w / Wt) * Math.ceil(L.out.c / g);
          const useDb = db && tiles > 1;
          if (db && !useDb) continue; // a single tile needs no second buffer: the single-buffered entry covers it
          const t: Tiling = { rows: R, cols: Wt, group: g, order, doubleBuffered: useDb, bytes: workingSet(L, res, R, Wt, g, order, useDb), traffic: traffic(L, res, R, Wt, g, order), tiles };
          all.push(t);
          if (!best || better(t, best)) best = t;
        }
      }
    }
  }
  if (!best || best.tiles === 1) return best;
  // Overlap and fewer, larger tiles are worth a little traffic: among the tilings within
  // SLACK of the fewest bytes, take a double-buffered one, then the fewest tiles.
  const near = all.filter((t) => t.traffic <= best!.traffic * (1 + SLACK));
  near.sort((a, b) => Number(b.doubleBuffered) - Number(a.doubleBuffered) || a.tiles - b.tiles || a.traffic - b.traffic);
  return near[0];
}

/** extra DRAM traffic (fraction) accepted for double buffering and fewer tiles */
export const SLACK = 0.05;

function maxRows(L: LayerGeom, res: Residency, Wt: number, g: number, order: LoopOrder, db: boolean, budget: number): number {
  const a = L.rowAlign;
  const fits = (R: number) => workingSet(L, res, R, Wt, g, order, db) <= budget;
  if (fits(L.out.h)) return L.out.h;
  if (!fits(a)) return 0;
  let lo = 1; // in units of `a`
  let hi = Math.floor(L.out.h / a);
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (fits(mid * a)) lo = mid;
    else hi = mid - 1;
  }
  return lo * a;
}

/** SRAM bytes of the smallest possible tile of a layer with every operand in DRAM. */
export function minimumWorkingSet(L: LayerGeom): number {
  const res: Residency = { inputs: L.inputs.map(() => false), out: false };
  return workingSet(L, res, Math.min(L.rowAlign, L.out.h), Math.min(L.colAlign, L.out.w), Math.min(L.groupAlign, L.out.c), 'group-outer', false);
}
