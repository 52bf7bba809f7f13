// The timing model: every compute unit and DMA engine is a resource that runs
// its instructions in stream order; an instruction starts when its resource is
// free and the SRAM buffers it reads (written by earlier instructions) and
// writes (read by earlier ones) are ready. Double-buffered tiles therefore
// overlap the next LOAD and the last STORE with the current COMPUTE by
// construction; where a unit waits for data, the wait is a stall. DMA engines
// share the DRAM port: a transfer waits out the DRAM latency, then holds the
// port for its bytes (runs rounded up to bursts). SYNC ends a layer: all
// resources wait for the slowest. Output: per-instruction start/end (for the
// trace), per-layer and per-stage figures, frame totals.
import type { Unit } from '../../models/graph.js';
import { UNIT_NAMES, type ChipConfig } from './chip-config.js';
import type { Program } from './compiler.js';
import type { Instr } from './instructions.js';
import { dmaEngines } from './units.js';

export interface LayerTiming {
  name: string;
  kind: string;
  unit: Unit;
  start: number;
  cycles: number;
  computeCycles: number;
  stallCycles: number;
  instructions: number;
  macs: number;
  dramReadBytes: number;
  dramWriteBytes: number;
  /** SRAM bytes held during the layer: resident tensors + its tile area */
  sramBytes: number;
  tiles: number;
  tiling: string;
  fetched: string[];
  spilled: string[];
}

export interface StageTiming {
  cycles: number;
  ms: number;
  computeCycles: number;
  stallCycles: number;
  instructions: number;
  ipc: number;
  cpi: number;
  utilisation: number;
  macs: number;
  dramReadBytes: number;
  dramWriteBytes: number;
  /** most SRAM bytes held during one of the stage's layers */
  sramPeakBytes: number;
}

export interface Timing {
  frame: { cycles: number; ms: number; fps: number; energyMj?: number };
  stages: Record<Unit, StageTiming>;
  layers: LayerTiming[];
  /** per instruction: resource ('encoder', 'dma0', ...), start and end cycle; SYNC gets ['sync', t, t] */
  schedule: { resource: string; start: number; end: number }[];
  dramReadBytes: number;
  dramWriteBytes: number;
  /** DRAM bytes per tensor (weights as '<op>:params') */
  tensors: Record<string, { read: number; write: number }>;
  sramPeakBytes: number;
  /** [cycle, bytes] at each layer start */
  sramOverTime: [number, number][];
  instructions: number;
}

export function timeProgram(p: Program): Timing {
  const c = p.config;
  const dmas = dmaEngines(c);
  const unitFree: Record<string, number> = { encoder: 0, attention: 0, decoder: 0 };
  const dmaFree = dmas.map(() => 0);
  let dramFree = 0;
  let now = 0; // time of the last SYNC
  let ready = new Map<number, number>(); // buffer id -> time its last write ends
  let lastRead = new Map<number, number>(); // buffer id -> time its last read ends
  const schedule: Timing['schedule'] = [];
  const tensors: Timing['tensors'] = {};
  const layers: LayerTiming[] = [];
  const inst = p.instrs;

  for (const L of p.layers) {
    const start = now;
    let compute = 0;
    let rd = 0;
    let wr = 0;
    for (let i = L.first; i < L.end; i++) {
      const ins: Instr = inst[i];
      if (ins.op === 'SYNC') {
        now = Math.max(now, ...Object.values(unitFree), ...dmaFree);
        for (const u of UNIT_NAMES) unitFree[u] = now;
        dmaFree.fill(now);
        dramFree = Math.max(dramFree, now);
        ready = new Map();
        lastRead = new Map();
        schedule.push({ resource: 'sync', start: now, end: now });
        continue;
      }
      let dep = now;
      for (const b of ins.reads) dep = Math.max(dep, ready.get(b) ?? 0);
      for (const b of ins.writes) dep = Math.max(dep, ready.get(b) ?? 0, lastRead.get(b) ?? 0);
      let s: number;
      let e: number;
      let resource: string;
      if (ins.op === 'COMPUTE') {
        s = Math.max(unitFree[ins.unit], dep);
        e = s + ins.cycles;
        unitFree[ins.unit] = e;
        compute += ins.cycles;
        resource = ins.unit;
      } else {
        let d = 0;
        for (let j = 1; j < dmaFree.length; j++) if (dmaFree[j] < dmaFree[d]) d = j;
        s = Math.max(dmaFree[d], dep);
        const dataStart = Math.max(s + dmas[d].latencyCycles, dramFree);
        e = dataStart + transfer(dmas[d], ins);
        dramFree = e;
        dmaFree[d] = e;
        resource = dmas[d].name;
        const t = (tensors[ins.tensor] ??= { read: 0, write: 0 });
        if (ins.op === 'LOAD' || ins.op === 'FETCH') {
          t.read += ins.bytes;
          rd += ins.bytes;
        } else {
          t.write += ins.bytes;
          wr += ins.bytes;
        }
      }
      for (const b of ins.reads) lastRead.set(b, Math.max(lastRead.get(b) ?? 0, e));
      for (const b of ins.writes) ready.set(b, e);
      schedule.push({ resource, start: s, end: e });
    }
    const T = L.tiling;
    layers.push({
      name: L.op.name, kind: L.op.kind, unit: L.op.unit, start, cycles: now - start, computeCycles: compute, stallCycles: now - start - compute,
      instructions: L.end - L.first, macs: L.macs, dramReadBytes: rd, dramWriteBytes: wr, sramBytes: L.residentBytes + L.tileBytes, tiles: T.tiles,
      tiling: `${T.rows}x${T.cols}x${T.group}${T.group < p.graph.tensors.get(L.op.output)!.c ? ` ${T.order}` : ''}${T.doubleBuffered ? ' double-buffered' : ''}`,
      fetched: L.fetched, spilled: L.spilled,
    });
  }

  const stages = {} as Record<Unit, StageTiming>;
  for (const u of UNIT_NAMES) {
    const ls = layers.filter((l) => l.unit === u);
    const cycles = sum(ls, (l) => l.cycles);
    const instructions = sum(ls, (l) => l.instructions);
    const computeCycles = sum(ls, (l) => l.computeCycles);
    stages[u] = {
      cycles, ms: (cycles / c.clockHz) * 1e3, computeCycles, stallCycles: cycles - computeCycles, instructions,
      ipc: cycles ? instructions / cycles : 0, cpi: instructions ? cycles / instructions : 0,
      utilisation: cycles ? computeCycles / cycles : 0, macs: sum(ls, (l) => l.macs),
      dramReadBytes: sum(ls, (l) => l.dramReadBytes), dramWriteBytes: sum(ls, (l) => l.dramWriteBytes),
      sramPeakBytes: ls.reduce((m, l) => Math.max(m, l.sramBytes), 0),
    };
  }
  const dramReadBytes = sum(layers, (l) => l.dramReadBytes);
  const dramWriteBytes = sum(layers, (l) => l.dramWriteBytes);
  const ms = (now / c.clockHz) * 1e3;
  const frame: Timing['frame'] = { cycles: now, ms, fps: now ? c.clockHz / now : 0 };
  if (c.energy) frame.energyMj = energy(c.energy, p, dramReadBytes + dramWriteBytes);
  const sramOverTime = layers.map((l) => [l.start, l.sramBytes] as [number, number]);
  return {
    frame, stages, layers, schedule, dramReadBytes, dramWriteBytes, tensors,
    sramPeakBytes: Math.max(...layers.map((l) => l.sramBytes)), sramOverTime, instructions: inst.length,
  };
}

function transfer(d: ReturnType<typeof dmaEngines>[number], ins: Extract<Instr, { boxes: unknown }>): number {
  let cycles = 0;
  for (const b of ins.boxes) cycles += d.transferCycles(b.n1 * b.n2, b.len);
  return cycles;
}

/** millijoules: DRAM bytes, SRAM bytes (DMA side and kernel operands), MACs, element-wise ops */
function energy(e: NonNullable<ChipConfig['energy']>, p: Program, dramBytes: number): number {
  let sram = dramBytes;
  let macs = 0;
  let ew = 0;
  for (const i of p.instrs) {
    if (i.op !== 'COMPUTE') continue;
    sram += i.sramBytes;
    macs += i.macs;
    ew += i.elements;
  }
  const pj = dramBytes * e.dramPjPerByte + sram * e.sramPjPerByte + macs * e.macPj + ew * e.elementwisePj;
  return pj * 1e-9;
}

function sum<T>(xs: T[], f: (x: T) => number): number {
  let s = 0;
  for (const x of xs) s += f(x);
  return s;
}
