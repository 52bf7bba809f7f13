// Chip configuration: presets load; bad configs are refused naming the field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChipConfigError, chipConfigJsonSchema, loadPreset, parseByteSize, parseChipConfig, presetNames, readChipConfig, resolveChipConfig, totalMacsPerCycle } from '../../../host/chip/chip-config.js';
import { compile } from '../../../host/chip/compiler.js';
import { packageFile } from '../../../common/package-root.js';

test('the shipped presets: nv_small (64 MACs, 128 KB), nv_large (2048 MACs, 512 KB) and default', () => {
  const names = presetNames();
  for (const n of ['default', 'nv_small', 'nv_large', 'edge_mid']) assert.ok(names.includes(n), `preset ${n} missing`);
  const small = loadPreset('nv_small');
  assert.equal(totalMacsPerCycle(small), 64);
  assert.equal(small.sram.bytes, 128 * 1024);
  const large = loadPreset('nv_large');
  assert.equal(totalMacsPerCycle(large), 2048);
  assert.equal(large.sram.bytes, 512 * 1024);
  for (const n of names) assert.equal(loadPreset(n).name, n, `preset file ${n}.json names itself`);
});

function refused(value: unknown, field: string): void {
  assert.throws(() => parseChipConfig(value), (e: unknown) => {
    assert.ok(e instanceof ChipConfigError, `expected ChipConfigError, got ${String(e)}`);
    assert.equal(e.field, field);
    assert.match(e.message, new RegExp(field.replace(/\./g, '\\.')));
    return true;
  });
}

test('zero bandwidth, negative and zero sizes, unknown fields are refused naming the field', () => {
  const ok = loadPreset('nv_small');
  refused({ ...ok, dram: { ...ok.dram, bytesPerCycle: 0 } }, 'dram.bytesPerCycle');
  refused({ ...ok, sram: { ...ok.sram, bytes: -131072 } }, 'sram.bytes');
  refused({ ...ok, dram: { ...ok.dram, bytes: -1 } }, 'dram.bytes');
  refused({ ...ok, dram: { ...ok.dram, latencyCycles: -5 } }, 'dram.latencyCycles');
  refused({ ...ok, units: { ...ok.units, decoder: { ...ok.units.decoder, macsPerCycle: 0 } } }, 'units.decoder.macsPerCycle');
  refused({ ...ok, units: { ...ok.units, encoder: { ...ok.units.encoder, atomicC: 3 } } }, 'units.encoder.atomicC');
  refused({ ...ok, dma: { engines: 0 } }, 'dma.engines');
  refused({ ...ok, sram: { ...ok.sram, bogus: 1 } }, 'sram');
  refused({ ...ok, clockHz: 'fast' }, 'clockHz');
  const { units: _u, ...noUnits } = ok;
  refused(noUnits, 'units');
});

test('every problem of a config is listed, each with its dotted path', () => {
  const ok = loadPreset('nv_small');
  try {
    parseChipConfig({ ...ok, dram: { ...ok.dram, bytesPerCycle: 0 }, sram: { bytes: -1, banks: 0 } });
    assert.fail('accepted');
  } catch (e) {
    assert.ok(e instanceof ChipConfigError);
    for (const f of ['dram.bytesPerCycle', 'sram.bytes', 'sram.banks']) assert.match(e.message, new RegExp(f.replace('.', '\\.')));
  }
});

test('an SRAM smaller than one tile of a layer is refused naming sram.bytes and the layer', () => {
  const c = resolveChipConfig('nv_small', 512);
  assert.throws(() => compile({ filters: 2, height: 32, width: 32, channels: 1 }, c), (e: unknown) => {
    assert.ok(e instanceof ChipConfigError);
    assert.equal(e.field, 'sram.bytes');
    assert.match(e.message, /sram\.bytes: 512 bytes cannot hold one tile of layer \S+ .*needs sram\.bytes >= \d+/);
    return true;
  });
});

test('config files: bad JSON names the file; --sram overrides the size; sizes parse', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'chip-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, '{"name": "x",');
  assert.throws(() => readChipConfig(bad), (e: unknown) => e instanceof ChipConfigError && e.message.includes(bad) && /not valid JSON/.test(e.message));
  const good = join(dir, 'good.json');
  writeFileSync(good, JSON.stringify({ ...loadPreset('edge_mid'), name: 'mine' }));
  assert.equal(readChipConfig(good).name, 'mine');
  assert.equal(resolveChipConfig('nv_large', 65536).sram.bytes, 65536);
  assert.equal(resolveChipConfig(undefined).name, 'default');
  assert.throws(() => resolveChipConfig('nv_tiny'), /unknown chip preset 'nv_tiny'/);
  assert.equal(parseByteSize('64K'), 65536);
  assert.equal(parseByteSize('1M'), 1 << 20);
  assert.equal(parseByteSize('1000'), 1000);
  assert.throws(() => parseByteSize('lots'), ChipConfigError);
});

test('docs/chip-config.schema.json is the JSON Schema generated from the zod schema (regenerate on change)', () => {
  const file = packageFile('docs/chip-config.schema.json');
  const stored = JSON.parse(readFileSync(file, 'utf8'));
  assert.deepEqual(stored, JSON.parse(JSON.stringify(chipConfigJsonSchema())),
    'stale: node --import tsx -e "import(\'./host/chip/chip-config.ts\').then(m => console.log(JSON.stringify(m.chipConfigJsonSchema(), null, 2)))" > docs/chip-config.schema.json');
  // every preset file is valid against the schema's required fields
  const required = (stored as { required: string[] }).required;
  for (const n of presetNames()) for (const f of required) assert.ok(f in loadPreset(n), `${n} lacks ${f}`);
});
