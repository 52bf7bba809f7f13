import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeModel, encodeModel, readModel, writeModel, PREFIX_BYTES, DIGEST_BYTES } from '../../models/format.js';
import { FileError } from '../../common/errors.js';
import type { QModel } from '../../models/qmodel.js';
import { randomQModel as makeQModel } from '../../models/random-qmodel.js';

const randomQModel = (arch: QModel['arch'], seed: number): QModel => ({
  ...makeQModel(arch, { seed }),
  meta: { provenance: { tool: 'test', date: '2026-01-01T00:00:00.000Z' } },
});

const tiny = randomQModel({ filters: 1, height: 16, width: 16, channels: 1 }, 3);
const tinyBytes = encodeModel(tiny);

function assertSameModel(a: QModel, b: QModel): void {
  assert.deepEqual(b.arch, a.arch);
  assert.deepEqual(b.preprocessing, a.preprocessing);
  assert.deepEqual(b.tensors, a.tensors);
  assert.deepEqual(b.meta, a.meta);
  assert.deepEqual(Object.keys(b.ops).sort(), Object.keys(a.ops).sort());
  for (const [name, p] of Object.entries(a.ops)) {
    const q = b.ops[name] as unknown as Record<string, unknown>;
    for (const [k, v] of Object.entries(p)) {
      if (ArrayBuffer.isView(v)) {
        assert.equal((q[k] as object).constructor, (v as object).constructor, `${name}.${k} type`);
        assert.deepEqual([...(q[k] as Int32Array)], [...(v as Int32Array)], `${name}.${k}`);
      } else assert.deepEqual(q[k], v, `${name}.${k}`);
    }
  }
}

/** Re-seal a modified image with a correct hash (what a buggy or foreign writer would produce). */
function reseal(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  out.set(createHash('sha256').update(out.subarray(0, out.length - DIGEST_BYTES)).digest(), out.length - DIGEST_BYTES);
  return out;
}

/** Replace the JSON header (lengths and hash fixed up). */
function withHeader(bytes: Uint8Array, edit: (h: Record<string, any>) => void): Uint8Array {
  const dv = new DataView(bytes.buffer, bytes.byteOffset);
  const hlen = dv.getUint32(12, true);
  const h = JSON.parse(new TextDecoder().decode(bytes.subarray(PREFIX_BYTES, PREFIX_BYTES + hlen)));
  edit(h);
  const json = new TextEncoder().encode(JSON.stringify(h));
  const oldStart = Math.ceil((PREFIX_BYTES + hlen) / 16) * 16;
  const newStart = Math.ceil((PREFIX_BYTES + json.length) / 16) * 16;
  const rest = bytes.subarray(oldStart);
  const out = new Uint8Array(newStart + rest.length);
  out.set(bytes.subarray(0, PREFIX_BYTES));
  new DataView(out.buffer).setUint32(12, json.length, true);
  out.set(json, PREFIX_BYTES);
  out.set(rest, newStart);
  return reseal(out);
}

function rejects(bytes: Uint8Array, pattern: RegExp, code?: string): void {
  assert.throws(() => decodeModel(bytes, 'm.aunet'), (e: unknown) => {
    assert.ok(e instanceof FileError, `expected FileError, got ${String(e)}`);
    assert.match(e.message, /^m\.aunet: /);
    assert.match(e.message, pattern);
    if (code) assert.equal(e.code, code);
    return true;
  });
}

test('round trip through a file keeps every field and array bit for bit', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'aunet-format-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const q = randomQModel({ filters: 2, height: 32, width: 48, channels: 3 }, 11);
  q.preprocessing = { resize: 'letterbox', normalize: 'unit', clahe: { clipLimit: 3, tiles: 8 } };
  const file = join(dir, 'm.aunet');
  writeModel(file, q);
  assert.ok(!existsSync(`${file}.tmp-${process.pid}`));
  const back = readModel(file);
  assertSameModel(q, back);
  // deterministic: writing the loaded model again gives the same bytes
  assert.deepEqual(encodeModel(back), new Uint8Array(readFileSync(file)));
});

test('wrong magic, firmware image, wrong version, trailing data', () => {
  const b = tinyBytes.slice();
  b[1] = 0x42;
  rejects(b, /not an \.aunet model/, 'NOT_A_MODEL');
  rejects(new TextEncoder().encode('AUFW....firmware'), /firmware image/, 'NOT_A_MODEL');
  const v = tinyBytes.slice();
  new DataView(v.buffer).setUint32(8, 2, true);
  rejects(v, /unsupported format version 2/, 'BAD_VERSION');
  rejects(reseal(v), /unsupported format version 2/, 'BAD_VERSION');
  const t = new Uint8Array(tinyBytes.length + 3);
  t.set(tinyBytes);
  rejects(t, /trailing data/);
});

test('every truncation point of a tiny F=1 16x16 model is rejected', () => {
  for (let n = 0; n < tinyBytes.length; n++) rejects(tinyBytes.subarray(0, n), /truncated|not even the 8-byte magic/);
});

test('every single-byte change of a tiny F=1 16x16 model is rejected', () => {
  const b = tinyBytes.slice();
  let rejected = 0;
  for (let i = 0; i < b.length; i++) {
    const old = b[i];
    // a different flip per position: low bit, high bit, whole byte
    b[i] = old ^ [0x01, 0x80, 0xff, 0x10][i % 4];
    assert.throws(() => decodeModel(b, 'm.aunet'), FileError, `byte ${i} changed was accepted`);
    b[i] = old;
    rejected++;
  }
  assert.equal(rejected, tinyBytes.length);
  assertSameModel(tiny, decodeModel(b)); // restored image still loads
});

test('single-byte changes and truncations of a larger model (sampled densely)', () => {
  const big = encodeModel(randomQModel({ filters: 4, height: 64, width: 64, channels: 3 }, 5));
  const b = big.slice();
  for (let i = 0; i < b.length; i += 97) {
    b[i] ^= 0x04;
    assert.throws(() => decodeModel(b), FileError, `byte ${i}`);
    b[i] ^= 0x04;
    assert.throws(() => decodeModel(big.subarray(0, i)), FileError, `cut at ${i}`);
  }
  assert.throws(() => decodeModel(big.subarray(0, big.length - 1)), /truncated/);
});

test('a correctly hashed file for another architecture or with wrong array sizes is rejected by name', () => {
  rejects(withHeader(tinyBytes, (h) => (h.arch.height = 24)), /input height must be a multiple of 16.*got 24/, 'BAD_ARCH');
  rejects(withHeader(tinyBytes, (h) => (h.arch.filters = 2)), /ops\.enc1\.conv1\.weights: has 9 values, the architecture needs 18/, 'BAD_ARCH');
  rejects(withHeader(tinyBytes, (h) => (h.ops['ag1.psi'].arrays.bias.count = 2)), /ops\.ag1\.psi\.bias: has 2 values, the architecture needs 1/);
  rejects(withHeader(tinyBytes, (h) => delete h.ops['dec2.concat']), /ops\.dec2\.concat: parameters missing/);
  rejects(withHeader(tinyBytes, (h) => delete h.tensors.c3), /tensors\.c3: quantization parameters missing/);
  rejects(withHeader(tinyBytes, (h) => (h.tensors.a2.scale = 0.5)), /tensors\.a2: must have the fixed sigmoid/);
  rejects(withHeader(tinyBytes, (h) => (h.ops['enc1.conv1'].arrays.weights.offset = 1 << 30)), /outside the .*tensor section/);
  rejects(withHeader(tinyBytes, (h) => (h.ops['enc1.conv1'].arrays.weights.dtype = 'int32')), /stored as int32, must be int8/);
  rejects(withHeader(tinyBytes, (h) => (h.ops['enc2.conv1'].pads = [0, 0, 0, 0])), /enc2\.conv1\.pads.*output/);
  rejects(withHeader(tinyBytes, (h) => (h.ops['ag1.add'].output.shift = 40)), /ag1\.add\.output\.shift/);
  rejects(withHeader(tinyBytes, (h) => (h.ops['enc1.pool'] = { kind: 'concat', inputA: { multiplier: 0, shift: 0 }, inputB: { multiplier: 0, shift: 0 } })), /enc1\.pool: a maxpool op has no parameters/);
  rejects(withHeader(tinyBytes, (h) => (h.format = 'other')), /header field format/);
  rejects(withHeader(tinyBytes, (h) => (h.ops['ag1.mul'].kind = 'add')), /header field ops\.ag1\.mul|ops\.ag1\.mul/);
});

test('a weight of -128 (not symmetric int8) is refused by the writer and the reader', () => {
  const q = randomQModel({ filters: 1, height: 16, width: 16, channels: 1 }, 4);
  const conv = q.ops['enc1.conv2'] as { weights: Int8Array };
  conv.weights[3] = -128;
  assert.throws(() => encodeModel(q), /enc1\.conv2\.weights: value 3 is -128/);
});

test('readModel names a missing file', (t) => {
  assert.throws(() => readModel('/nonexistent/x.aunet'), (e: unknown) => e instanceof FileError && /\/nonexistent\/x\.aunet: model not found/.test(e.message));
  const dir = mkdtempSync(join(tmpdir(), 'aunet-format-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'empty.aunet'), '');
  assert.throws(() => readModel(join(dir, 'empty.aunet')), /empty\.aunet: truncated/);
});
