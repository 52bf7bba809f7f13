// Tile shapes: for one layer, which output rectangle (a band of rows, a range of
// columns, a group of output channels) each tile computes, what input region it
// needs (the halo of a 3x3 conv included), and how many SRAM bytes its working
// set takes. chooseTiling() searches the shapes that fit a budget and keeps the
// one that moves the fewest DRAM bytes: whole-width row bands first, then
// column tiles, then output-channel groups, as the budget shrinks.
import type { Graph, Op } from '../../models/graph.js';

export const ALIGN = 16;
export const align = (n: number) => Math.ceil(n / ALIGN) * ALIGN;

/** Bytes one output channel's packed conv weights take (KernelSet.convWeightBytes). */
export type WeightBytes = (k: 1 | 3, cin: number) => number;

export interface OperandGeom {
  tensor: string;
  h: number;
  w: number;
  c: number;
  /** input rows [r0, r1) an output row band [y0, y1) reads */
  rows(y0: number, y1: number): [number, number];
  cols(x0: number, x1: number): [number, number];
}

/** Everything the tiler and the compiler need to know about one layer. */
export interface LayerGeom {
  op: Op;
  index: number;
  inputs: OperandGeom[];
  out: { tensor: string; h: number; w: number; c: number };
  /** tile starts must be multiples of these (2 where the op maps 2 pixels to 1) */
  rowAlign: number;
  colAlign: number;
  /** conv: output channels can be split into groups */
  groupable: boolean;
  /** output channels the unit computes in parallel (atomic-K): groups are multiples of it when they can be */
  groupQuantum: number;
  /** conv padding as the model gives it */
  pads: readonly [number, number, number, number];
  /** SRAM bytes of the params of `g` output channels (weights, bias, multiplier, shift, LUT) */
  paramBytes(g: number): number;
  /** DRAM bytes of all params */
  paramTotal: number;
}

export function layerGeom(g: Graph, index: number, weightBytes: WeightBytes, pads?: readonly [number, number, number, number], groupQuantum = 1): LayerGeom {
  const op = g.ops[index];
  const shape = (t: string) => g.tensors.get(t)!;
  const o = shape(op.output);
  const same = (t: string): OperandGeom => {
    const s = shape(t);
    return { tensor: t, h: s.h, w: s.w, c: s.c, rows: (y0, y1) => [y0, y1], cols: (x0, x1) => [x0, x1] };
  };
  const base = { op, index, out: { tensor: op.output, h: o.h, w: o.w, c: o.c }, rowAlign: 1, colAlign: 1, groupable: false, groupQuantum, pads: [0, 0, 0, 0] as const, paramBytes: (_g: number) => 0, paramTotal: 0 };
  switch (op.kind) {
    case 'conv': {
      const s = shape(op.input);
      const [pt, pl] = pads ?? op.pads;
      const { k, stride } = op;
      const win = (lo: number, hi: number, pad: number, n: number): [number, number] => [Math.max(0, lo * stride - pad), Math.min(n, (hi - 1) * stride - pad + k)];
      const wb = weightBytes(k, op.cin);
      const paramBytes = (n: number) => align(n * wb) + 3 * align(4 * n);
      return {
        ...base,
        inputs: [{ tensor: op.input, h: s.h, w: s.w, c: s.c, rows: (y0, y1) => win(y0, y1, pt, s.h), cols: (x0, x1) => win(x0, x1, pl, s.w) }],
        groupable: true,
        pads: pads ?? op.pads,
        paramBytes,
        paramTotal: op.cout * (wb + 12),
      };
    }
    case 'maxpool': {
      const s = shape(op.input);
      return { ...base, inputs: [{ tensor: op.input, h: s.h, w: s.w, c: s.c, rows: (a, b) => [2 * a, 2 * b], cols: (a, b) => [2 * a, 2 * b] }] };
    }
    case 'upsample': {
      const s = shape(op.input);
      return { ...base, rowAlign: 2, colAlign: 2, inputs: [{ tensor: op.input, h: s.h, w: s.w, c: s.c, rows: (a, b) => [a >> 1, (b + 1) >> 1], cols: (a, b) => [a >> 1, (b + 1) >> 1] }] };
    }
    case 'gatemul': {
      const s = shape(op.attention);
      const half = (a: number, b: number): [number, number] => [a >> 1, (b + 1) >> 1];
      return { ...base, rowAlign: 2, colAlign: 2, inputs: [{ tensor: op.attention, h: s.h, w: s.w, c: s.c, rows: half, cols: half }, same(op.skip)] };
    }
    case 'concat':
    case 'add':
      return { ...base, inputs: op.inputs.map(same) };
    case 'sigmoid':
      return { ...base, inputs: [same(op.input)], paramBytes: () => 256, paramTotal: 256 };
    case 'affine':
      return { ...base, inputs: [same(op.input)], paramBytes: () => align(op.channels) + 3 * align(4 * op.channels), paramTotal: op.channels * 13 };
  }
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
  const q = Math.min(L.groupQuantum, L.out.c);
  const all = L.groupable ? options(L.out.c, 1) : [L.out.c];
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
  return workingSet(L, res, Math.min(L.rowAlign, L.out.h), Math.min(L.colAlign, L.out.w), 1, 'group-outer', false);
}
