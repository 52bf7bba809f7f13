// `aunet chip` end to end: the JSON fields the issue fixes, --list-presets,
// --trace (Chrome trace events, one track per unit and DMA engine), the sweep
// table and PNG, and refusals that name the field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decode } from 'fast-png';
import { loadPreset } from '../../../host/chip/chip-config.js';
import { PACKAGE_ROOT } from '../../../common/package-root.js';

const ROOT = PACKAGE_ROOT;
const OUT = join(ROOT, 'test-artifacts', 'chip');
mkdirSync(OUT, { recursive: true });

function aunet(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/aunet.js', 'chip', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('aunet chip --json: config, macs, frame, stages with IPC/CPI, memory', () => {
  const r = aunet('--model', 'lite', '--preset', 'nv_small', '--sram', '64K', '--json');
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.deepEqual([j.config.preset, j.config.sramBytes, j.config.totalMacsPerCycle, j.config.clockHz], ['nv_small', 65536, 64, 500e6]);
  assert.ok(j.macs > 0.2e9 && j.macs < 0.3e9, `lite MACs ${j.macs}`);
  assert.ok(j.frame.cycles >= j.macs / 64);
  assert.ok(Math.abs(j.frame.ms - (j.frame.cycles / 500e6) * 1e3) < 1e-9);
  assert.ok(Math.abs(j.frame.fps - 500e6 / j.frame.cycles) < 1e-9);
  for (const s of ['encoder', 'attention', 'decoder']) {
    const st = j.stages[s];
    assert.ok(st.cycles > 0 && st.instructions > 0, s);
    assert.ok(Math.abs(st.ipc - st.instructions / st.cycles) < 1e-12 && Math.abs(st.cpi - st.cycles / st.instructions) < 1e-9);
  }
  assert.equal(j.memory.sramBytes, 65536);
  assert.ok(j.memory.sramPeakBytes <= 65536 && j.memory.sramPeakBytes > 0);
  assert.ok(j.memory.dramReadBytes > j.memory.weightBytes && j.memory.dramWriteBytes > 0);
  assert.equal(j.residency.skips.length, 4);
});

test('aunet chip text report, --list-presets and --trace', () => {
  const list = aunet('--list-presets');
  assert.equal(list.code, 0);
  for (const p of ['default', 'nv_small', 'nv_large']) assert.match(list.stdout, new RegExp(`^${p}\\s`, 'm'));
  const trace = join(OUT, 'trace.json');
  const r = aunet('--model', 'lite', '--preset', 'nv_large', '--trace', trace);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^frame: \d+ cycles/m);
  assert.match(r.stdout, /^encoder\s+\d+/m);
  assert.match(r.stdout, /skip tensors: c1 /);
  const t = JSON.parse(readFileSync(trace, 'utf8'));
  const names = t.traceEvents.filter((e: { name: string }) => e.name === 'thread_name').map((e: { args: { name: string } }) => e.args.name);
  assert.deepEqual(names, ['encoder', 'attention', 'decoder', 'dma0', 'dma1']);
  const x = t.traceEvents.filter((e: { ph: string }) => e.ph === 'X');
  assert.ok(x.length > 100);
  for (const e of x) assert.ok(e.ts >= 0 && e.dur >= 0 && Number.isInteger(e.tid));
  assert.ok(x.some((e: { cat: string }) => e.cat === 'COMPUTE') && x.some((e: { cat: string }) => e.cat === 'LOAD'));
});

test('aunet chip sweep: table, sweep.json and a PNG plot', () => {
  const dir = join(OUT, 'sweep');
  const r = aunet('sweep', '--model', 'lite', '--preset', 'edge_mid', '--sram', '1K,32K,64K,256K,1M', '--out', dir);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^\s+1K\s+refused: .*sram\.bytes/m);
  assert.match(r.stdout, /^\s+64K\s+[\d.]+ MiB/m);
  const png = decode(readFileSync(join(dir, 'sweep.png')));
  assert.deepEqual([png.width, png.height, png.channels], [1000, 420, 3]);
  // the plot has the series colours in it (not a blank image)
  let blue = 0;
  for (let i = 0; i < png.data.length; i += 3) if (png.data[i] === 31 && png.data[i + 1] === 119 && png.data[i + 2] === 180) blue++;
  assert.ok(blue > 100, `only ${blue} series pixels`);
  // the legend has a row of its own under the panel title, never over the figure's title (rows 0-19)
  const colourAt = (y0: number, y1: number, rgb: number[]) => {
    let n = 0;
    for (let y = y0; y < y1; y++) for (let x = 0; x < png.width; x++) if ([0, 1, 2].every((c) => png.data[(y * png.width + x) * 3 + c] === rgb[c])) n++;
    return n;
  };
  for (const rgb of [[31, 119, 180], [255, 127, 14]]) {
    assert.equal(colourAt(0, 20, rgb), 0, `series colour ${rgb} in the title rows`);
    assert.ok(colourAt(45, 58, rgb) > 20, `legend entry ${rgb} under the panel title`);
  }
  const rows = JSON.parse(readFileSync(join(dir, 'sweep.json'), 'utf8')).rows;
  assert.equal(rows.length, 5);
});

test('aunet chip sweep --help lists the options it takes from aunet chip', () => {
  const r = aunet('sweep', '--help');
  assert.equal(r.code, 0);
  for (const o of ['--model', '--sram', '--preset', '--config', '--out']) assert.match(r.stdout, new RegExp(`^\\s+${o} `, 'm'), o);
  assert.match(r.stdout, /^Usage: aunet chip sweep --model/m);
});

test('preset descriptions say what their configs are (atomic C, MACs)', () => {
  for (const name of ['nv_small', 'nv_large', 'edge_mid', 'default']) {
    const c = loadPreset(name);
    const units = Object.values(c.units);
    const atomic = /atomic C (\d+)/.exec(c.description ?? '');
    if (atomic) assert.ok(units.every((u) => u.atomicC === Number(atomic[1])), `${name}: "${atomic[0]}" but the units have atomicC ${units.map((u) => u.atomicC)}`);
    const macs = /(\d+) MACs/.exec(c.description ?? '');
    if (macs) assert.equal(units.reduce((n, u) => n + u.macsPerCycle, 0), Number(macs[1]), `${name}: "${macs[0]}"`);
    // and the table of docs/chip-model.md: | `name` | total (enc/att/dec) | atomic-C | ...
    const row = new RegExp(`^\\| \`${name}\`[^|]*\\| (\\d+) \\((\\d+)/(\\d+)/(\\d+)\\) \\| (\\d+) \\|`, 'm').exec(readFileSync(join(ROOT, 'docs/chip-model.md'), 'utf8'));
    assert.ok(row, `${name} in the preset table of docs/chip-model.md`);
    assert.deepEqual(row.slice(1).map(Number), [units.reduce((n, u) => n + u.macsPerCycle, 0), c.units.encoder.macsPerCycle, c.units.attention.macsPerCycle, c.units.decoder.macsPerCycle, c.units.encoder.atomicC], `${name}: docs table`);
  }
});

// Exit statuses follow common/errors.ts: a chip configuration that cannot work is
// bad input (1), whether it came from a file or an --sram override; a preset
// name that does not exist is bad usage (2).
test('refusals name the field: bad config file, zero bandwidth, tiny SRAM, unknown model', () => {
  const cfg = join(OUT, 'zero-bw.json');
  const c = loadPreset('nv_small');
  writeFileSync(cfg, JSON.stringify({ ...c, dram: { ...c.dram, bytesPerCycle: 0 } }));
  let r = aunet('--model', 'lite', '--config', cfg);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /dram\.bytesPerCycle: must be > 0/);
  r = aunet('--model', 'lite', '--sram', '256');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /sram\.bytes: 256 bytes cannot hold one tile of layer/);
  r = aunet('--model', 'nosuch.aunet');
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /no such model file.*\(nosuch\.aunet\)/);
  r = aunet('--model', 'lite', '--preset', 'nv_huge');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown chip preset 'nv_huge'/);
  assert.doesNotMatch(r.stderr, /internal error/);
});

test('a model file: aunet chip reads it; aunet infer --engine chip and --engine direct write identical PNGs', async () => {
  const { writeModel } = await import('../../../models/format.js');
  const { randomQModel } = await import('../../../models/random-qmodel.js');
  const { readdirSync } = await import('node:fs');
  const model = join(OUT, 'tiny.aunet');
  writeModel(model, randomQModel({ filters: 2, height: 32, width: 32, channels: 1 }, { seed: 9 }));
  const r = aunet('--model', model, '--preset', 'nv_small', '--sram', '8K', '--json');
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.model.name, 'tiny.aunet');
  assert.deepEqual(j.model.arch, { filters: 2, height: 32, width: 32, channels: 1 });
  const busi = join(ROOT, '..', 'shared', 'data', 'busi', 'benign');
  const image = join(busi, readdirSync(busi).find((f) => f.endsWith('.png') && !f.includes('mask'))!);
  for (const engine of ['direct', 'chip']) {
    const run = spawnSync(process.execPath, ['bin/aunet.js', 'infer', '--model', model, '--input', image, '--out', join(OUT, `infer-${engine}`), '--engine', engine], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    assert.equal(run.status, 0, run.stderr);
  }
  const files = readdirSync(join(OUT, 'infer-direct')).filter((f) => f.endsWith('.png'));
  assert.ok(files.includes('mask.png') && files.includes('attention1.png'));
  for (const f of files) assert.ok(readFileSync(join(OUT, 'infer-direct', f)).equals(readFileSync(join(OUT, 'infer-chip', f))), `${f} differs between engines`);
});
