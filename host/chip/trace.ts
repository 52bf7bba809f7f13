// Chrome trace-event JSON of one frame (opens in Perfetto and chrome://tracing):
// one track per compute unit and DMA engine, one complete event ('X') per
// instruction, a counter track of SRAM occupancy. Time is in microseconds at
// the chip's clock. Format: the Trace Event Format document (Google).
import type { Program } from './compiler.js';
import type { Timing } from './timing.js';

export function chromeTrace(p: Program, t: Timing): object {
  const us = (cycles: number) => (cycles / p.config.clockHz) * 1e6;
  const tracks = ['encoder', 'attention', 'decoder', ...Array.from({ length: p.config.dma.engines }, (_, i) => `dma${i}`)];
  const tid = new Map(tracks.map((n, i) => [n, i + 1]));
  const events: object[] = [{ name: 'process_name', ph: 'M', pid: 1, tid: 0, args: { name: `aunet chip ${p.config.name}` } }];
  for (const [name, id] of tid) {
    events.push({ name: 'thread_name', ph: 'M', pid: 1, tid: id, args: { name } });
    events.push({ name: 'thread_sort_index', ph: 'M', pid: 1, tid: id, args: { sort_index: id } });
  }
  p.instrs.forEach((ins, i) => {
    const s = t.schedule[i];
    if (ins.op === 'SYNC') return;
    const layer = p.graph.ops[ins.layer].name;
    const args = ins.op === 'COMPUTE' ? { kind: ins.kind, macs: ins.macs, elements: ins.elements, cycles: ins.cycles } : { tensor: ins.tensor, bytes: ins.bytes, runs: ins.runs };
    const name = ins.op === 'COMPUTE' ? `${layer}` : `${ins.op} ${ins.tensor}`;
    events.push({ name, cat: ins.op, ph: 'X', pid: 1, tid: tid.get(s.resource), ts: us(s.start), dur: us(s.end - s.start), args: { layer, ...args } });
  });
  for (const [cycle, bytes] of t.sramOverTime) events.push({ name: 'SRAM bytes', ph: 'C', pid: 1, ts: us(cycle), args: { bytes } });
  return { traceEvents: events, displayTimeUnit: 'ns', otherData: { preset: p.config.name, clockHz: p.config.clockHz, cycles: t.frame.cycles } };
}
