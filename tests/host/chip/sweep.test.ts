// Shrinking the SRAM never lowers DRAM traffic (and never speeds the frame up by
// moving fewer bytes): checked over fine-grained sweeps from the smallest
// workable SRAM upward, for several models and presets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildGraph } from '../../../models/graph.js';
import { loadPreset } from '../../../host/chip/chip-config.js';
import { minimumSramBytes } from '../../../host/chip/residency.js';
import { layerGeom } from '../../../host/chip/tiling.js';
import { sweepSram } from '../../../host/chip/sweep.js';
import { SMALL_ARCHS } from './helpers.js';

test('DRAM traffic never rises as the SRAM grows (sweep from the minimum to 4 MiB)', () => {
  for (const [arch, preset] of [[SMALL_ARCHS[0], 'nv_small'], [SMALL_ARCHS[1], 'edge_mid'], [SMALL_ARCHS[2], 'nv_large']] as const) {
    const g = buildGraph(arch);
    const min = minimumSramBytes(g.ops.map((_, i) => layerGeom(g, i, { convWeightBytes: (k, c) => k * k * c, convChannelGroup: () => 1 })));
    const sizes: number[] = [];
    for (let s = Math.ceil(min / 16) * 16; s <= 4 << 20; s = Math.ceil((s * 1.25) / 16) * 16) sizes.push(s);
    const rows = sweepSram(g, loadPreset(preset), [min - 16, ...sizes]);
    // below the minimum: refused, naming the field
    assert.equal(rows[0].ok, false);
    assert.match(!rows[0].ok ? rows[0].error : '', /sram\.bytes/);
    let prev = Infinity;
    for (const r of rows.slice(1)) {
      assert.ok(r.ok, `${r.sramBytes}: refused above the minimum ${min}`);
      const traffic = r.report.memory.dramReadBytes + r.report.memory.dramWriteBytes;
      assert.ok(traffic <= prev, `F=${arch.filters} ${preset}: SRAM ${r.sramBytes} moves ${traffic} B > ${prev} B at the next smaller size`);
      assert.ok(r.report.memory.sramPeakBytes <= r.sramBytes);
      prev = traffic;
    }
    // the sweep spans a real range: the smallest SRAM moves far more than the largest
    const first = rows[1].ok ? rows[1].report.memory.dramReadBytes : 0;
    const last = rows.at(-1)!.ok ? (rows.at(-1) as { report: { memory: { dramReadBytes: number } } }).report.memory.dramReadBytes : 0;
    assert.ok(first > 1.5 * last, `traffic barely changes over the sweep: ${first} vs ${last}`);
  }
});

test('the compiler on its own (no schedule reuse) is monotone on power-of-two sizes', () => {
  const g = buildGraph(SMALL_ARCHS[2]);
  const sizes = [4096, 8192, 16384, 32768, 65536, 131072, 262144];
  const rows = sweepSram(g, loadPreset('nv_small'), sizes);
  let prev = Infinity;
  for (const r of rows) {
    assert.ok(r.ok);
    assert.equal(r.scheduleSramBytes, r.sramBytes, `${r.sramBytes} reused the schedule of ${r.scheduleSramBytes}`);
    const t = r.report.memory.dramReadBytes + r.report.memory.dramWriteBytes;
    assert.ok(t <= prev);
    prev = t;
  }
});
