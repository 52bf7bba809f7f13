// What `aunet chip` prints: one JSON object (the fields the issue fixes, plus
// per-layer detail, per-tensor traffic and the residency of skip tensors and
// attention maps) and a human-readable text report built from it.
import { graphMacs } from '../../models/graph.js';
import { totalMacsPerCycle } from './chip-config.js';
import type { Program } from './compiler.js';
import type { Timing } from './timing.js';

export interface TensorResidency {
  tensor: string;
  bytes: number;
  /** 'on-chip' whole life; 'spilled' (SPILL then FETCH or DRAM tiles); 'dram' (never resident) */
  policy: 'on-chip' | 'spilled' | 'dram';
  spilledAfter: string[];
  fetchedBefore: string[];
}

export interface ChipReport {
  config: { preset: string; sramBytes: number; totalMacsPerCycle: number; clockHz: number; dramBytesPerCycle: number; dmaEngines: number };
  model: { arch: Program['graph']['arch'] };
  macs: number;
  frame: { cycles: number; ms: number; fps: number; energyMj?: number; lowerBoundCycles: number };
  stages: Record<'encoder' | 'attention' | 'decoder', { cycles: number; ms: number; computeCycles: number; stallCycles: number; instructions: number; ipc: number; cpi: number; utilisation: number; macs: number; dramReadBytes: number; dramWriteBytes: number; sramPeakBytes: number }>;
  memory: {
    sramBytes: number; sramPeakBytes: number; dramReadBytes: number; dramWriteBytes: number;
    weightBytes: number; inputBytes: number; dramFootprintBytes: number;
    sramOverTime: [number, number][];
    tensors: Record<string, { read: number; write: number }>;
  };
  residency: { skips: TensorResidency[]; attention: TensorResidency[]; spills: number; fetches: number };
  instructions: { total: number; byOpcode: Record<string, number> };
  layers: Timing['layers'];
}

export function buildReport(p: Program, t: Timing): ChipReport {
  const g = p.graph;
  const c = p.config;
  const names = new Map(g.ops.map((op, i) => [i, op.name]));
  const residencyOf = (tensor: string): TensorResidency => {
    const l = p.residency.lives.get(tensor)!;
    const spilledAfter = p.residency.spillAfter.flatMap((ts, i) => (ts.includes(tensor) ? [names.get(i)!] : []));
    const fetchedBefore = p.residency.fetchBefore.flatMap((ts, i) => (ts.includes(tensor) ? [names.get(i)!] : []));
    const allOn = l.segments.every((s) => s.on) && l.gapHeld.every(Boolean);
    const noneOn = l.segments.every((s) => !s.on);
    return { tensor, bytes: l.bytes, policy: allOn ? 'on-chip' : noneOn ? 'dram' : 'spilled', spilledAfter, fetchedBefore };
  };
  const byOpcode: Record<string, number> = {};
  for (const i of p.instrs) byOpcode[i.op] = (byOpcode[i.op] ?? 0) + 1;
  const macs = graphMacs(g);
  const { height: H, width: W, channels: C } = g.arch;
  const total = totalMacsPerCycle(c);
  return {
    config: { preset: c.name, sramBytes: c.sram.bytes, totalMacsPerCycle: total, clockHz: c.clockHz, dramBytesPerCycle: c.dram.bytesPerCycle, dmaEngines: c.dma.engines },
    model: { arch: g.arch },
    macs,
    frame: { ...t.frame, lowerBoundCycles: Math.ceil(macs / total) },
    stages: t.stages,
    memory: {
      sramBytes: c.sram.bytes, sramPeakBytes: t.sramPeakBytes, dramReadBytes: t.dramReadBytes, dramWriteBytes: t.dramWriteBytes,
      weightBytes: p.dram.paramBytes, inputBytes: H * W * C, dramFootprintBytes: p.dram.bytes,
      sramOverTime: t.sramOverTime, tensors: t.tensors,
    },
    residency: { skips: g.skips.map(residencyOf), attention: g.attention.map(residencyOf), spills: byOpcode.SPILL ?? 0, fetches: byOpcode.FETCH ?? 0 },
    instructions: { total: p.instrs.length, byOpcode },
    layers: t.layers,
  };
}

const kb = (n: number) => (n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(2)} MiB` : `${(n / 1024).toFixed(1)} KiB`);
const fix = (n: number, d = 1) => n.toFixed(d);

export function formatReport(r: ChipReport, layers = true): string {
  const a = r.model.arch;
  const out: string[] = [];
  out.push(`chip ${r.config.preset}: ${r.config.totalMacsPerCycle} MACs/cycle at ${fix(r.config.clockHz / 1e6, 0)} MHz, SRAM ${kb(r.config.sramBytes)}, DRAM ${r.config.dramBytesPerCycle} B/cycle, ${r.config.dmaEngines} DMA engine(s)`);
  out.push(`model F=${a.filters} ${a.width}x${a.height}x${a.channels}: ${fix(r.macs / 1e9, 2)} GMAC`);
  out.push(`frame: ${r.frame.cycles} cycles, ${fix(r.frame.ms, 2)} ms, ${fix(r.frame.fps, 1)} fps (MAC-bound floor ${r.frame.lowerBoundCycles} cycles, ${fix((100 * r.frame.lowerBoundCycles) / r.frame.cycles)}% of it)${r.frame.energyMj !== undefined ? `, ${fix(r.frame.energyMj, 2)} mJ` : ''}`);
  out.push('');
  out.push('stage       cycles        ms   compute%  stall cycles  instructions        IPC       CPI  DRAM read  DRAM write   SRAM peak');
  for (const [name, s] of Object.entries(r.stages)) {
    out.push(`${name.padEnd(10)} ${String(s.cycles).padStart(10)} ${fix(s.ms, 2).padStart(9)} ${fix(100 * s.utilisation).padStart(9)} ${String(s.stallCycles).padStart(13)} ${String(s.instructions).padStart(13)} ${s.ipc.toExponential(2).padStart(10)} ${fix(s.cpi, 1).padStart(9)} ${kb(s.dramReadBytes).padStart(10)} ${kb(s.dramWriteBytes).padStart(11)} ${kb(s.sramPeakBytes).padStart(11)}`);
  }
  out.push('');
  const m = r.memory;
  out.push(`memory: SRAM peak ${kb(m.sramPeakBytes)} of ${kb(m.sramBytes)}; DRAM read ${kb(m.dramReadBytes)} (weights+params ${kb(m.weightBytes)}, input ${kb(m.inputBytes)}), written ${kb(m.dramWriteBytes)}; DRAM footprint ${kb(m.dramFootprintBytes)}`);
  out.push(`instructions: ${r.instructions.total} (${Object.entries(r.instructions.byOpcode).map(([k, v]) => `${k} ${v}`).join(', ')})`);
  const res = (t: TensorResidency) => `${t.tensor} ${kb(t.bytes)} ${t.policy}${t.spilledAfter.length ? `, SPILL after ${t.spilledAfter.join(',')}` : ''}${t.fetchedBefore.length ? `, FETCH before ${t.fetchedBefore.join(',')}` : ''}`;
  out.push('skip tensors: ' + r.residency.skips.map(res).join('; '));
  out.push('attention maps: ' + r.residency.attention.map(res).join('; '));
  if (layers) {
    out.push('');
    out.push('layer              unit        cycles   stall%  tiles  tiling (rows x cols x channels)        DRAM rd    DRAM wr   SRAM');
    for (const l of r.layers) {
      out.push(`${l.name.padEnd(18)} ${l.unit.padEnd(9)} ${String(l.cycles).padStart(10)} ${fix(l.cycles ? (100 * l.stallCycles) / l.cycles : 0).padStart(7)} ${String(l.tiles).padStart(6)}  ${l.tiling.padEnd(36)} ${kb(l.dramReadBytes).padStart(10)} ${kb(l.dramWriteBytes).padStart(10)} ${kb(l.sramBytes).padStart(10)}${l.fetched.length ? ` FETCH ${l.fetched.join(',')}` : ''}${l.spilled.length ? ` SPILL ${l.spilled.join(',')}` : ''}`);
    }
  }
  return out.join('\n') + '\n';
}
