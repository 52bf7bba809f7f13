// The chip engine computes the real answer: byte-identical probability map,
// mask and attention maps to the direct whole-layer executor, for every preset
// and for SRAMs so small that the network runs as hundreds of tiles (column
// tiles, output-channel groups, spills and fetches included).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Arch } from '../../../models/graph.js';
import { randomQModel } from '../../../models/random-qmodel.js';
import { syntheticFrames } from '../../../models/random-model.js';
import { createReferenceKernels } from '../../../host/kernels/reference/index.js';
import { createWasmKernels } from '../../../host/kernels/wasm-kernels.js';
import { createDirectEngine } from '../../../host/engine/direct-executor.js';
import { loadEngine, type EngineRequest } from '../../../host/load/engine-loader.js';
import { createChipEngine } from '../../../host/chip/chip-engine.js';
import { presetNames } from '../../../host/chip/chip-config.js';
import type { KernelSet } from '../../../host/kernels/kernel-set.js';
import type { InferenceResult } from '../../../host/engine/engine.js';

function assertSame(a: InferenceResult, b: InferenceResult, what: string): void {
  assert.ok(Buffer.compare(a.prob.data, b.prob.data) === 0, `${what}: probability maps differ`);
  assert.ok(Buffer.compare(a.mask, b.mask) === 0, `${what}: masks differ`);
  a.attention.forEach((m, i) => {
    assert.deepEqual([m.width, m.height], [b.attention[i].width, b.attention[i].height]);
    assert.ok(Buffer.compare(m.data, b.attention[i].data) === 0, `${what}: attention map a${i + 1} differs`);
  });
}

/**
 * Of the channel-grouped convs (done ahead), how many read their input from SRAM (resident) and how many from DRAM;
 * and how many convs were done ahead for their row tiles cutting the kernels' Winograd tiles (group-ahead.ts cutsTiles).
 */
type AheadInputs = { resident: number; dram: number; cut: number };

function check(kernels: KernelSet, arch: Arch, seed: number, configs: { chip: string; sramBytes?: number; minTiles?: number }[]): AheadInputs {
  const ahead: AheadInputs = { resident: 0, dram: 0, cut: 0 };
  const model = randomQModel(arch, { seed, torchPads: 0.5 });
  const frames = syntheticFrames(arch, 2, seed);
  const direct = createDirectEngine(model, kernels);
  const want = frames.map((f) => direct.run(f));
  // the maps must not be degenerate, or identical outputs would prove little
  assert.ok(new Set(want[0].prob.data).size > 8, 'direct probability map is nearly constant');
  for (const c of configs) {
    // channel-grouped convs: the whole layer at its first COMPUTE (group-ahead.ts), and each group on its own
    for (const groupsAhead of [true, false]) {
      const chip = createChipEngine(model, kernels, { ...c, groupsAhead });
      const tiles = chip.program.layers.reduce((s, l) => s + l.tiling.tiles, 0);
      const what = `${kernels.name} F=${arch.filters} ${arch.width}x${arch.height}x${arch.channels} ${c.chip} SRAM ${chip.program.config.sram.bytes} (${tiles} tiles, ${chip.machine.aheadLayers} convs done ahead)`;
      if (c.minTiles) assert.ok(tiles >= c.minTiles, `${what}: expected >= ${c.minTiles} tiles`);
      if (c.minTiles && groupsAhead) assert.ok(chip.machine.aheadLayers >= 2, `${what}: expected channel-grouped convs`);
      if (groupsAhead) {
        let grouped = 0;
        for (const L of chip.program.layers) {
          if (L.tiling.group < chip.program.graph.tensors.get(L.op.output)!.c) {
            ahead[L.inputsResident[0] ? 'resident' : 'dram']++;
            grouped++;
          }
        }
        ahead.cut += chip.machine.aheadLayers - grouped;
      }
      frames.forEach((f, i) => {
        const r = chip.run(f);
        assertSame(r, want[i], what);
        assert.equal(r.cycles, chip.timing.frame.cycles);
      });
    }
  }
  return ahead;
}

test('reference kernels: chip == direct for every preset and for tiny SRAMs (hundreds of tiles)', () => {
  const k = createReferenceKernels();
  const presets = presetNames().map((chip) => ({ chip }));
  check(k, { filters: 2, height: 32, width: 32, channels: 1 }, 11, [...presets, { chip: 'nv_small', sramBytes: 4096, minTiles: 100 }, { chip: 'edge_mid', sramBytes: 1024, minTiles: 300 }]);
  check(k, { filters: 2, height: 32, width: 48, channels: 3 }, 12, [{ chip: 'nv_large', sramBytes: 2048, minTiles: 200 }]);
});

test('WASM kernels: chip == direct for every preset, forced small SRAMs, spills and fetches', () => {
  const k = createWasmKernels();
  const arch = { filters: 4, height: 64, width: 64, channels: 3 };
  const presets = presetNames().map((chip) => ({ chip }));
  // the chip holds int8 weights; the kernels read their packed copies of each tile's channels (chip-weights.ts)
  const ahead = check(k, arch, 21, [...presets, { chip: 'default', sramBytes: 8192, minTiles: 200 }, { chip: 'nv_small', sramBytes: 4096, minTiles: 600 }]);
  // a conv done ahead computes the whole layer from where its LOADs read (group-ahead.ts): both places covered
  assert.ok(ahead.resident > 0 && ahead.dram > 0, `convs done ahead with a resident input ${ahead.resident}, with a DRAM input ${ahead.dram}`);
  assert.ok(ahead.cut > 0, 'no conv was done ahead for its row tiles cutting the Winograd tiles');
  // so the modelled chip is the same whatever kernels run it: the program and its timing equal the reference kernels' (and aunet chip's)
  const m = randomQModel(arch, { seed: 23 });
  for (const c of [...presets, { chip: 'nv_small', sramBytes: 4096 }]) {
    const [a, b] = [k, createReferenceKernels()].map((ks) => createChipEngine(m, ks, c));
    assert.deepEqual(a.timing.frame, b.timing.frame, `${c.chip} ${'sramBytes' in c ? c.sramBytes : ''}`);
    assert.equal(a.timing.dramReadBytes, b.timing.dramReadBytes);
    assert.equal(a.program.instrs.length, b.program.instrs.length);
  }
  // a configuration where skip tensors are spilled and fetched back
  const model = randomQModel(arch, { seed: 22 });
  const chip = createChipEngine(model, k, { chip: 'nv_small', sramBytes: 24576 });
  const ops = new Set(chip.program.instrs.map((i) => i.op));
  assert.ok(ops.has('SPILL') && ops.has('FETCH'), `expected SPILL and FETCH in the stream, got ${[...ops].join(',')}`);
  const f = syntheticFrames(arch, 1, 5)[0];
  assertSame(chip.run(f), createDirectEngine(model, k).run(f), 'spill/fetch schedule');
});

test('loadEngine: direct by default, chip on request, both on one KernelSet', async () => {
  const arch = { filters: 2, height: 32, width: 32, channels: 1 };
  const model = randomQModel(arch, { seed: 31 });
  const createEngine = async (m: typeof model, r: EngineRequest) => (await loadEngine(m, r)).engine;
  const kernels = createReferenceKernels();
  const d = await createEngine(model, { kernels });
  const c = await createEngine(model, { kernels, engine: 'chip', chip: 'nv_small', sramBytes: 8192 });
  assert.match(d.name, /^direct\//);
  assert.match(c.name, /^chip\/nv_small\//);
  const f = syntheticFrames(arch, 1, 1)[0];
  const rc = c.run(f);
  assertSame(rc, d.run(f), 'createEngine');
  assert.ok(rc.cycles! > 0);
  await assert.rejects(createEngine(model, { kernels, engine: 'gpu' as 'chip' }), /unknown engine 'gpu'/);
  await assert.rejects(createEngine(model, { kernels, engine: 'chip', chip: 'nv_tiny' }), /unknown chip preset/);
  assert.throws(() => c.run(new Uint8Array(10)), /input frame has 10 bytes/);
});

test('kernels touch only SRAM: the machine refuses a stream whose operand reaches past the SRAM', async () => {
  const { compile } = await import('../../../host/chip/compiler.js');
  const { resolveChipConfig } = await import('../../../host/chip/chip-config.js');
  const { sramCheck } = await import('../../../host/chip/sram.js');
  const p = compile({ filters: 2, height: 32, width: 32, channels: 1 }, resolveChipConfig('nv_small', 8192));
  sramCheck(p.instrs, 8192);
  const c = p.instrs.find((i) => i.op === 'COMPUTE' && i.kind === 'conv');
  assert.ok(c && c.op === 'COMPUTE');
  c.call.out = 8192 - 8; // a tile written across the SRAM's end into DRAM
  assert.throws(() => sramCheck(p.instrs, 8192), /conv output .* lies outside the SRAM/);
});

test('the machine moves every DMA byte of the program but those no kernel reads in SRAM: conv weight slices, and the LOADs of convs done ahead', () => {
  const arch: Arch = { filters: 2, height: 32, width: 32, channels: 1 };
  const model = randomQModel(arch, { seed: 21 });
  const frame = syntheticFrames(arch, 1, 21)[0];
  const k = createWasmKernels();
  const want = createDirectEngine(model, k).run(frame);
  let moved = 0;
  const counting: KernelSet = Object.assign(Object.create(k) as KernelSet, {
    copyBox(...a: Parameters<KernelSet['copyBox']>) {
      moved += a[2] * a[5] * a[8];
      k.copyBox(...a);
    },
  });
  for (const groupsAhead of [false, true]) {
    const chip = createChipEngine(model, counting, { chip: 'nv_small', sramBytes: 4096, groupsAhead });
    const { program } = chip;
    // the convs done ahead here are the channel-grouped ones (none is tiled by rows that cut the kernels' Winograd tiles)
    const ahead = new Set(program.layers.filter((L) => L.tiling.group < program.graph.tensors.get(L.op.output)!.c).map((L) => L.index));
    if (groupsAhead) assert.ok(ahead.size >= 2 && chip.machine.aheadLayers === ahead.size, `${ahead.size} channel-grouped convs, ${chip.machine.aheadLayers} done ahead`);
    let programBytes = 0;
    let weightBytes = 0;
    let aheadLoadBytes = 0;
    // a conv done ahead copies each COMPUTE's box from its staging area to the COMPUTE's output
    let stagingBytes = 0;
    for (const ins of program.instrs) {
      if (ins.op === 'COMPUTE' && ahead.has(ins.layer) && groupsAhead) stagingBytes += (ins.call.y1 - ins.call.y0) * (ins.call.x1 - ins.call.x0) * (ins.call.o1 - ins.call.o0);
      if (ins.op === 'COMPUTE' || ins.op === 'SYNC') continue;
      programBytes += ins.bytes;
      if (ins.op !== 'LOAD') continue;
      // box j of a params LOAD is plane j's slice (compiler.ts); conv weights are the planes with a kernel copy
      const planes = ins.tensor.endsWith(':params') ? program.dram.params.ops[ins.layer]!.planes : [];
      ins.boxes.forEach((b, j) => {
        const bytes = b.n1 * b.n2 * b.len;
        if (planes[j]?.plane.kernelCopy) weightBytes += bytes;
        else if (groupsAhead && ahead.has(ins.layer)) aheadLoadBytes += bytes;
      });
    }
    const what = `groupsAhead ${groupsAhead}`;
    assert.ok(weightBytes > 0 && weightBytes < programBytes, `${what}: weights ${weightBytes} of ${programBytes} bytes`);
    if (groupsAhead) assert.ok(aheadLoadBytes > 0, `${what}: the convs done ahead load tiles`);
    moved = 0;
    assertSame(chip.run(frame), want, `chip without the copies nobody reads, ${what}`);
    assert.equal(moved, programBytes - weightBytes - aheadLoadBytes + stagingBytes, what);
  }
});
