// The compiler: network -> one instruction stream for the three compute units
// and the DMA engines. It lays out DRAM (params, then the tensors that ever
// live there), asks residency.ts which tensors stay on chip and how each layer
// is tiled, and then emits, per layer: FETCHes of spilled tensors it needs,
// the tile loops (LOAD params, LOAD inputs with halo, COMPUTE, STORE), SPILLs
// of tensors whose SRAM the next layers need, and a SYNC. Each COMPUTE is the
// op's binding call (host/kernels/ops) over one tile; the binding also says
// which input window a tile reads and what its params are, so nothing here
// knows an op kind. Pure: no kernels, no heap; machine.ts executes the stream,
// timing.ts times it.
import { buildGraph, opMacs, type Arch, type Graph, type Op, type Pads } from '../../models/graph.js';
import type { QModel } from '../../models/qmodel.js';
import type { OpCall } from '../kernels/ops/op-binding.js';
import { planeBytes, planeLayout, type PlacedParams } from '../kernels/ops/param-placement.js';
import { opWork } from '../kernels/ops/registry.js';
import type { ChipConfig } from './chip-config.js';
import { dramLayout, type DramLayout } from './dram.js';
import type { Box, ComputeInstr, DmaInstr, Instr } from './instructions.js';
import { flatBox, rectBox } from './dma.js';
import { holdingAt, planResidency, type ResidencyPlan } from './residency.js';
import { alignedSram, TileArea } from './sram.js';
import { layerGeom, paramBuffers, ranges, tileBuffers, type LayerGeom, type Tiling } from './tiling.js';
import { CHIP_WEIGHT_BYTES } from './chip-weights.js';
import { computeUnits, type ComputeUnit } from './units.js';

/** The padding a model gives its ops where it overrides the graph's (a conv imported from PyTorch): CompileOptions.pads. */
export function modelPads(model: QModel): Record<string, Pads> {
  const pads: Record<string, Pads> = {};
  for (const [name, p] of Object.entries(model.ops)) if ('pads' in p) pads[name] = [...p.pads];
  return pads;
}

export interface CompileOptions {
  /** conv padding per op name where the model overrides the graph's */
  pads?: Record<string, Pads>;
}

export interface LayerPlan {
  index: number;
  op: Op;
  tiling: Tiling;
  macs: number;
  /** instructions [first, end) of this layer in the stream */
  first: number;
  end: number;
  /** SRAM bytes held by resident tensors at this layer, and the tile area */
  residentBytes: number;
  tileBytes: number;
  inputsResident: boolean[];
  outputResident: boolean;
  fetched: string[];
  spilled: string[];
}

export interface Program {
  config: ChipConfig;
  graph: Graph;
  instrs: Instr[];
  layers: LayerPlan[];
  residency: ResidencyPlan;
  dram: DramLayout;
  /** bytes of the engine's heap region: SRAM then DRAM */
  regionBytes: number;
}

const P_BUF = 0; // params buffers 0, 1
const IN_BUF = 2; // input j buffers 2 + 2j, 3 + 2j
const OUT_BUF = 8; // output buffers 8, 9
const RES_BUF = 100; // resident tensor ids from here

export function compile(graphOrArch: Graph | Arch, config: ChipConfig, options: CompileOptions = {}): Program {
  const g = 'ops' in graphOrArch ? graphOrArch : buildGraph(graphOrArch);
  const units = computeUnits(config);
  const geoms = g.ops.map((op, i) => layerGeom(g, i, CHIP_WEIGHT_BYTES, options.pads?.[op.name], units[op.unit].atomicK || 1));
  const sramBytes = alignedSram(config);
  const residency = planResidency(g, geoms, sramBytes);
  const dram = dramLayout(g, CHIP_WEIGHT_BYTES, residency, sramBytes, config);
  const resIds = new Map([...residency.lives.keys()].map((t, k) => [t, RES_BUF + k]));

  const instrs: Instr[] = [];
  const layers: LayerPlan[] = [];
  g.ops.forEach((op, i) => {
    const L = geoms[i];
    const lp = residency.layers[i];
    const first = instrs.length;
    for (const t of residency.fetchBefore[i]) {
      const s = g.tensors.get(t)!;
      const n = s.h * s.w * s.c;
      instrs.push(dma('FETCH', i, t, [flatBox(dram.tensors.get(t)!, holdingAt(residency, t, i)!.offset, n)], [], [resIds.get(t)!]));
    }
    emitLayer(instrs, L, lp.tiling, lp.residency, lp.areaOffset, lp.areaBytes, {
      resident: (t) => holdingAt(residency, t, i)!.offset,
      resId: (t) => resIds.get(t)!,
      dramAt: (t) => dram.tensors.get(t)!,
      params: dram.params.ops[i] && atBase(dram.params.ops[i]!, dram.base),
      graph: g,
      unit: units[op.unit],
    });
    for (const t of residency.spillAfter[i]) {
      const s = g.tensors.get(t)!;
      instrs.push(dma('SPILL', i, t, [flatBox(holdingAt(residency, t, i)!.offset, dram.tensors.get(t)!, s.h * s.w * s.c)], [resIds.get(t)!], []));
    }
    instrs.push({ op: 'SYNC', layer: i });
    layers.push({
      index: i, op, tiling: lp.tiling, macs: opMacs(op, g.tensors), first, end: instrs.length,
      residentBytes: lp.residentBytes, tileBytes: lp.tiling.bytes,
      inputsResident: lp.residency.inputs, outputResident: lp.residency.out,
      fetched: residency.fetchBefore[i], spilled: residency.spillAfter[i],
    });
  });
  return { config, graph: g, instrs, layers, residency, dram, regionBytes: dram.base + dram.bytes };
}

interface Ctx {
  resident(t: string): number;
  resId(t: string): number;
  dramAt(t: string): number;
  /** the layer's params, at region offsets */
  params: PlacedParams | undefined;
  graph: Graph;
  unit: ComputeUnit;
}

function atBase(p: PlacedParams, base: number): PlacedParams {
  return { at: p.at + base, planes: p.planes.map((q) => ({ plane: q.plane, at: q.at + base })) };
}

function dma(op: DmaInstr['op'], layer: number, tensor: string, boxes: Box[], reads: number[], writes: number[]): DmaInstr {
  let bytes = 0;
  let runs = 0;
  for (const b of boxes) {
    bytes += b.n1 * b.n2 * b.len;
    runs += b.n1 * b.n2;
  }
  return { op, layer, tensor, boxes, bytes, runs, reads, writes };
}

function emitLayer(stream: Instr[], L: LayerGeom, T: Tiling, res: { inputs: boolean[]; out: boolean }, area: number, areaBytes: number, ctx: Ctx): void {
  const op = L.op;
  const k = T.doubleBuffered ? 2 : 1;
  // each step: the loads a compute needs, then the compute and its store. Double-buffered,
  // the next step's loads are issued before this step's compute (software pipelining), so an
  // in-order DMA queue fetches tile n+1 while the unit works on tile n.
  const steps: { loads: Instr[]; work: Instr[] }[] = [];
  let cur = { loads: [] as Instr[], work: [] as Instr[] };
  let out = cur.loads;
  const { inBytes, outBytes } = tileBuffers(L, res, T.rows, T.cols, T.group);
  // sub-allocate the tile area: params, inputs, output
  const tileArea = new TileArea(area, areaBytes);
  const take = (n: number) => tileArea.take(n);
  const pBytes = L.paramBytes(T.group);
  const pBufs = pBytes ? Array.from({ length: paramBuffers(L, T.group, T.order, T.doubleBuffered) }, () => take(pBytes)) : [];
  const inBufs = inBytes.map((n) => Array.from({ length: k }, () => take(n)));
  const outBufs = Array.from({ length: k }, () => take(outBytes));

  const groups = L.groupable ? ranges(L.out.c, T.group) : [[0, L.out.c] as [number, number]];
  const spatial: [number, number, number, number][] = [];
  for (const [y0, y1] of ranges(L.out.h, T.rows)) for (const [x0, x1] of ranges(L.out.w, T.cols)) spatial.push([y0, y1, x0, x1]);

  // a params LOAD copies the slice [o0, o1) of every plane, laid out for o1 - o0 channels
  const loadParams = (o0: number, o1: number, slot: number) => {
    const p = ctx.params;
    if (!p) return;
    const dst = pBufs[slot];
    const n = o1 - o0;
    const { offsets } = planeLayout(L.planes, n);
    const boxes = p.planes.map((q, j) => flatBox(q.at + o0 * q.plane.perChannel, dst + offsets[j], planeBytes(q.plane, n)));
    out.push(dma('LOAD', L.index, `${op.name}:params`, boxes, [], [P_BUF + slot]));
  };

  /** input operand views of one tile: pointer, rows, cols (stride), region start */
  const loadInputs = (y0: number, y1: number, x0: number, x1: number, slot: number) =>
    L.inputs.map((inp, j) => {
      const [r0, r1raw] = inp.rows(y0, y1);
      const r1 = Math.min(r1raw, inp.h);
      if (res.inputs[j]) {
        return { ptr: ctx.resident(inp.tensor) + r0 * inp.w * inp.c, h: r1 - r0, w: inp.w, r0, c0: 0, id: ctx.resId(inp.tensor) };
      }
      const [c0, c1raw] = inp.cols(x0, x1);
      const c1 = Math.min(c1raw, inp.w);
      const buf = inBufs[j][slot];
      out.push(dma('LOAD', L.index, inp.tensor, [rectBox('in', ctx.dramAt(inp.tensor), inp.w, inp.c, r0, r1, c0, c1, 0, inp.c, buf)], [], [IN_BUF + 2 * j + slot]));
      return { ptr: buf, h: r1 - r0, w: c1 - c0, r0, c0, id: IN_BUF + 2 * j + slot };
    });

  const computeStore = (views: ReturnType<typeof loadInputs>, y0: number, y1: number, x0: number, x1: number, o0: number, o1: number, pSlot: number, oSlot: number) => {
    const R = y1 - y0;
    const W = x1 - x0;
    const g = o1 - o0;
    const C = L.out.c;
    const outId = res.out ? ctx.resId(L.out.tensor) : OUT_BUF + oSlot;
    const call: OpCall = {
      y0, y1, x0, x1, o0, o1,
      inputs: views.map((v, j) => ({ ptr: v.ptr, h: v.h, w: v.w, c: L.inputs[j].c, r0: v.r0, c0: v.c0 })),
      // a resident output is written in place (whole-width bands), else compact into the tile buffer
      out: res.out ? ctx.resident(L.out.tensor) + y0 * L.out.w * C + o0 : outBufs[oSlot],
      outPixelStride: res.out ? C : g,
      params: ctx.params && pBufs.length ? planeLayout(L.planes, g).offsets.map((o) => pBufs[pSlot] + o) : [],
    };
    const work = opWork(op, ctx.graph, call);
    const m = work.macArray;
    const inBytesRead = views.reduce((s, v, j) => s + v.h * v.w * L.inputs[j].c, 0);
    const c: ComputeInstr = {
      op: 'COMPUTE', layer: L.index, unit: op.unit, kind: op.kind, call, macs: work.macs, elements: work.elements,
      cycles: m ? ctx.unit.convCycles(m.pixels, m.k, m.cin, m.cout) : ctx.unit.elementwiseCycles(work.elements),
      sramBytes: inBytesRead + R * W * g + (pBytes ? L.paramBytes(g) : 0),
      reads: [...views.map((v) => v.id), ...(pBufs.length ? [P_BUF + pSlot] : [])],
      writes: [outId],
    };
    cur.work.push(c);
    if (!res.out) {
      cur.work.push(dma('STORE', L.index, L.out.tensor, [rectBox('out', ctx.dramAt(L.out.tensor), L.out.w, C, y0, y1, x0, x1, o0, o1, outBufs[oSlot])], [outId], []));
    }
  };

  const endStep = () => {
    steps.push(cur);
    cur = { loads: [], work: [] };
    out = cur.loads;
  };
  let n = 0; // computes so far: alternates output (and, group-outer, input) buffers
  if (T.order === 'group-outer' || groups.length === 1) {
    groups.forEach(([o0, o1], gi) => {
      const pSlot = gi % pBufs.length || 0;
      loadParams(o0, o1, pSlot);
      for (const [y0, y1, x0, x1] of spatial) {
        const slot = n % k;
        const views = loadInputs(y0, y1, x0, x1, slot);
        computeStore(views, y0, y1, x0, x1, o0, o1, pSlot, slot);
        endStep();
        n++;
      }
    });
  } else {
    spatial.forEach(([y0, y1, x0, x1], s) => {
      const views = loadInputs(y0, y1, x0, x1, s % k);
      for (const [o0, o1] of groups) {
        loadParams(o0, o1, n % pBufs.length || 0);
        computeStore(views, y0, y1, x0, x1, o0, o1, n % pBufs.length || 0, n % k);
        endStep();
        n++;
      }
    });
  }
  const ahead = k === 2 ? 1 : 0;
  for (let i = 0; i < ahead && i < steps.length; i++) stream.push(...steps[i].loads);
  steps.forEach((st, i) => {
    if (!ahead) stream.push(...st.loads);
    else if (i + 1 < steps.length) stream.push(...steps[i + 1].loads);
    stream.push(...st.work);
  });
}
