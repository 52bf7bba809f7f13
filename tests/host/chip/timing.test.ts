// The timing model: bounds that hold for every preset and model, and two
// hand-computed single-conv configurations that the model must match exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildGraph, graphMacs } from '../../../models/graph.js';
import { loadPreset, presetNames, resolveChipConfig, totalMacsPerCycle } from '../../../host/chip/chip-config.js';
import { compile } from '../../../host/chip/compiler.js';
import { timeProgram } from '../../../host/chip/timing.js';
import { buildReport } from '../../../host/chip/report.js';
import { SMALL_ARCHS, convWeightBytes, handConfig, inputBytes, oneConvGraph } from './helpers.js';

const SEED = { filters: 32, height: 256, width: 256, channels: 3 } as const;

test('for every preset and model: cycles >= MACs / total MAC rate, DRAM reads >= weights + input frame', () => {
  for (const preset of presetNames()) {
    for (const arch of [...SMALL_ARCHS, SEED]) {
      const g = buildGraph(arch);
      const c = loadPreset(preset);
      const p = compile(g, c);
      const t = timeProgram(p);
      const macs = graphMacs(g);
      const what = `${preset} F=${arch.filters} ${arch.width}x${arch.height}`;
      assert.ok(t.frame.cycles >= macs / totalMacsPerCycle(c), `${what}: ${t.frame.cycles} cycles < ${macs} MACs / ${totalMacsPerCycle(c)}`);
      assert.ok(t.dramReadBytes >= convWeightBytes(g) + inputBytes(arch), `${what}: DRAM reads ${t.dramReadBytes} < weights ${convWeightBytes(g)} + input ${inputBytes(arch)}`);
      // the result leaves the chip: the probability map and the four attention maps are written
      const outBytes = arch.height * arch.width + g.attention.reduce((s, a) => s + g.tensors.get(a)!.h * g.tensors.get(a)!.w, 0);
      assert.ok(t.dramWriteBytes >= outBytes, `${what}: DRAM writes ${t.dramWriteBytes} < results ${outBytes}`);
      // every layer's MACs take at least MACs / unit rate cycles on its unit
      for (const l of t.layers) assert.ok(l.computeCycles * c.units[l.unit].macsPerCycle >= l.macs, `${what} ${l.name}: compute too fast`);
      // stages add up to the frame; IPC and CPI are reciprocal
      const stages = Object.values(t.stages);
      assert.equal(stages.reduce((s, x) => s + x.cycles, 0), t.frame.cycles);
      for (const s of stages) if (s.instructions) assert.ok(Math.abs(s.ipc * s.cpi - 1) < 1e-9);
      assert.ok(t.sramPeakBytes <= c.sram.bytes, `${what}: SRAM peak ${t.sramPeakBytes} > ${c.sram.bytes}`);
      assert.equal(t.frame.fps, c.clockHz / t.frame.cycles);
    }
  }
});

test('hand-computed: one 8x8x4 -> 8x8x8 conv that fits the SRAM whole', () => {
  // One 3x3 conv, 8x8x4 input, 8 outputs. 16 MACs/cycle (ideal array), DRAM 4 B/cycle,
  // latency 10 cycles, bursts of 1 byte, one DMA engine, 1 MHz clock, SRAM 64 KiB: one tile.
  //   LOAD params: weights 8*9*4 = 288 B, bias/mult/shift 3 * 8*4 = 96 B -> 384 B read.
  //     starts 0, data after the latency at 10, 288/4 + 3*32/4 = 96 cycles -> ends 106
  //   LOAD input 8*8*4 = 256 B: engine free at 106, data at 116, 64 cycles -> 180
  //   COMPUTE 64 pixels * 8 * 9*4 = 18432 MACs / 16 = 1152 cycles: 180 -> 1332
  //   STORE 8*8*8 = 512 B: 1332, data at 1342, 128 cycles -> 1470
  // Frame 1470 cycles = 1.47 ms at 1 MHz; DRAM read 640 B, written 512 B.
  const g = oneConvGraph(8, 8, 4, 8);
  const p = compile(g, handConfig({ sram: 65536, bytesPerCycle: 4, latency: 10, macs: 16 }));
  assert.deepEqual(p.instrs.map((i) => i.op), ['LOAD', 'LOAD', 'COMPUTE', 'STORE', 'SYNC']);
  const t = timeProgram(p);
  assert.deepEqual(t.schedule.slice(0, 4).map((s) => [s.start, s.end]), [[0, 106], [106, 180], [180, 1332], [1332, 1470]]);
  assert.equal(t.frame.cycles, 1470);
  assert.equal(t.frame.ms, 1.47);
  assert.equal(t.dramReadBytes, 640);
  assert.equal(t.dramWriteBytes, 512);
  assert.equal(t.stages.encoder.computeCycles, 1152);
  assert.equal(t.stages.encoder.stallCycles, 1470 - 1152);
  assert.equal(t.stages.encoder.instructions, 5);
  assert.equal(t.stages.encoder.cpi, 1470 / 5);
});

test('hand-computed: the same conv in 1100 bytes of SRAM, double-buffered over output-channel groups', () => {
  // Working sets (16-byte aligned): params of g channels = align(36g) + 3 * align(4g).
  //   whole layer: 384 + input 256 + output 512 = 1152 > 1100.
  //   fewest DRAM bytes: input loaded once and kept, output channels in groups ("spatial-outer"):
  //     256 + 384 (params) + 512 = 1152 B. Groups of 4 single-buffered: 192 + 256 + 256 = 704 fits;
  //     groups of 4 double-buffered: 2*192 + 2*256 + 2*256 = 1408 does not; groups of 2
  //     double-buffered: 2*128 + 2*256 + 2*128 = 1024 fits, same 1152 B: double buffering is preferred.
  // Stream (the next group's params are issued before this group's compute):
  //   LOAD input 256 B      0 -> 10 + 64                        = 74
  //   LOAD params g0 96 B   74 -> 84 + (72 + 3*8)/4              = 108
  //   LOAD params g1        108 -> 118 + 24                      = 142
  //   COMPUTE g0 64 px * 2 * 36 = 4608 MACs / 16 = 288: 108 -> 396
  //   STORE g0 128 B (64 runs of 2 B): waits for COMPUTE g0: 396 -> 406 + 32 = 438
  //   LOAD params g2 into buffer 0 (read by COMPUTE g0 until 396): engine free at 438 -> 448 + 24 = 472
  //   COMPUTE g1            unit free at 396, params ready 142: 396 -> 684
  //   STORE g1              684 -> 694 + 32                      = 726
  //   LOAD params g3        726 -> 736 + 24                      = 760
  //   COMPUTE g2            684 -> 972 (params 472, output buffer 0 drained at 438)
  //   STORE g2              972 -> 982 + 32                      = 1014
  //   COMPUTE g3            972 -> 1260 (params 760, buffer 1 drained at 726)
  //   STORE g3              1260 -> 1270 + 32                    = 1302
  const g = oneConvGraph(8, 8, 4, 8);
  const p = compile(g, handConfig({ sram: 1100, bytesPerCycle: 4, latency: 10, macs: 16 }));
  const T = p.layers[0].tiling;
  assert.deepEqual([T.rows, T.cols, T.group, T.order, T.doubleBuffered, T.tiles, T.traffic], [8, 8, 2, 'spatial-outer', true, 4, 1152]);
  assert.deepEqual(p.instrs.map((i) => i.op), ['LOAD', 'LOAD', 'LOAD', 'COMPUTE', 'STORE', 'LOAD', 'COMPUTE', 'STORE', 'LOAD', 'COMPUTE', 'STORE', 'COMPUTE', 'STORE', 'SYNC']);
  const t = timeProgram(p);
  assert.deepEqual(t.schedule.slice(0, 13).map((s) => [s.start, s.end]), [
    [0, 74], [74, 108], [108, 142], [108, 396], [396, 438], [438, 472], [396, 684], [684, 726], [726, 760], [684, 972], [972, 1014], [972, 1260], [1260, 1302],
  ]);
  assert.equal(t.frame.cycles, 1302);
  assert.equal(t.dramReadBytes, 256 + 4 * 96);
  assert.equal(t.dramWriteBytes, 512);
  assert.equal(t.sramPeakBytes, 1024);
  assert.deepEqual(t.tensors, { input: { read: 256, write: 0 }, 'conv:params': { read: 384, write: 0 }, out: { read: 0, write: 512 } });
  assert.equal(t.stages.encoder.computeCycles, 4 * 288);
});

test('double buffering: loads of the next tile run while the unit computes the current one', () => {
  const p = compile(SMALL_ARCHS[2], resolveChipConfig('nv_small', 16384));
  const t = timeProgram(p);
  const db = p.layers.filter((l) => l.tiling.doubleBuffered);
  assert.ok(db.length > 0, 'no layer was double-buffered');
  let overlaps = 0;
  for (const l of db) {
    const computes: { start: number; end: number }[] = [];
    const loads: { start: number; end: number }[] = [];
    for (let i = l.first; i < l.end; i++) (p.instrs[i].op === 'COMPUTE' ? computes : p.instrs[i].op === 'LOAD' ? loads : []).push(t.schedule[i]);
    for (const c of computes) for (const d of loads) if (d.start < c.end && c.start < d.end) overlaps++;
  }
  assert.ok(overlaps > 0, 'no LOAD overlapped a COMPUTE');
});

test('the report carries the fields of `aunet chip --json` and names the residency of c1..c4 and a1..a4', () => {
  const p = compile(SMALL_ARCHS[2], loadPreset('nv_small'));
  const r = buildReport(p, timeProgram(p));
  assert.equal(r.config.preset, 'nv_small');
  assert.equal(r.config.totalMacsPerCycle, 64);
  for (const s of ['encoder', 'attention', 'decoder'] as const) for (const k of ['cycles', 'instructions', 'ipc', 'cpi']) assert.equal(typeof r.stages[s][k as 'cycles'], 'number');
  for (const k of ['sramBytes', 'sramPeakBytes', 'dramReadBytes', 'dramWriteBytes']) assert.equal(typeof r.memory[k as 'sramBytes'], 'number');
  assert.deepEqual(r.residency.skips.map((s) => s.tensor), ['c1', 'c2', 'c3', 'c4']);
  assert.deepEqual(r.residency.attention.map((s) => s.tensor), ['a1', 'a2', 'a3', 'a4']);
  assert.ok(r.frame.energyMj! > 0);
});
