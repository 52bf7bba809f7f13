// The limits a model may have (models/graph.ts ARCH_LIMITS, docs/model-format.md
// "Limits") are checked before anything is allocated for it: both engines
// refuse an in-memory model with a 32768x32768 input or 1000 filters at once
// (BAD_MODEL), the .aunet reader refuses such a header before reading an array
// (exit 1 through the CLI, never an internal error), and the ONNX importer
// refuses a 1M x 1M input before walking the graph.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomQModel } from '../../models/random-qmodel.js';
import { randomFloatModel } from '../../models/random-model.js';
import { encodeModel, decodeModel, ALIGN, PREFIX_BYTES } from '../../models/format.js';
import { ARCH_LIMITS, type Arch } from '../../models/graph.js';
import { exportOnnx } from '../../models/onnx/export.js';
import { importOnnx } from '../../models/onnx/import.js';
import { onnx } from '../../models/onnx/proto.js';
import { AunetError, FileError } from '../../common/errors.js';
import { createReferenceKernels } from '../../host/kernels/reference/index.js';
import { createDirectEngine } from '../../host/engine/direct-executor.js';
import { createChipEngine } from '../../host/chip/chip-engine.js';
import { tempDir } from '../camera/helpers.js';
import { runAunet } from '../support/aunet-cli.js';

const arch: Arch = { filters: 2, height: 32, width: 32, channels: 1 };
const tmp = tempDir('limits');
test.after(() => tmp.remove());

/** An .aunet file whose header claims another architecture, re-hashed so only the limits can refuse it. */
function withArch(bytes: Uint8Array, patch: Partial<Arch>): Buffer {
  const b = Buffer.from(bytes);
  const headerBytes = b.readUInt32LE(12);
  const section = Number(b.readBigUInt64LE(16));
  const header = JSON.parse(b.toString('utf8', PREFIX_BYTES, PREFIX_BYTES + headerBytes));
  header.arch = { ...header.arch, ...patch };
  const json = Buffer.from(JSON.stringify(header));
  const start = Math.ceil((PREFIX_BYTES + headerBytes) / ALIGN) * ALIGN;
  const prefix = Buffer.from(b.subarray(0, PREFIX_BYTES));
  prefix.writeUInt32LE(json.length, 12);
  const pad = Buffer.alloc(Math.ceil((PREFIX_BYTES + json.length) / ALIGN) * ALIGN - PREFIX_BYTES - json.length);
  const body = Buffer.concat([prefix, json, pad, b.subarray(start, start + section)]);
  return Buffer.concat([body, createHash('sha256').update(body).digest()]);
}

test('the limits: sides up to 1024, 1 or 3 channels, filters up to 64', () => {
  assert.deepEqual({ ...ARCH_LIMITS }, { maxSide: 1024, channels: [1, 3], maxFilters: 64 });
});

test('both engines refuse a model outside the limits in milliseconds, with BAD_MODEL naming the field', () => {
  for (const [patch, field] of [[{ height: 32768, width: 32768 }, /arch\.height.*16 to 1024, got 32768/], [{ filters: 1000 }, /arch\.filters.*1 to 64, got 1000/], [{ channels: 4 }, /arch\.channels.*1 or 3/]] as const) {
    for (const make of [(m: ReturnType<typeof randomQModel>) => createDirectEngine(m, createReferenceKernels()), (m: ReturnType<typeof randomQModel>) => createChipEngine(m, createReferenceKernels(), { chip: 'nv_small' })]) {
      const model = randomQModel(arch, { seed: 1 });
      model.arch = { ...model.arch, ...patch };
      const t0 = performance.now();
      assert.throws(() => make(model), (e: Error) => e instanceof AunetError && e.code === 'BAD_MODEL' && field.test(e.message));
      assert.ok(performance.now() - t0 < 1000, 'refused before any allocation or compilation');
    }
  }
});

test('an .aunet whose header claims 32768x32768 is refused before its arrays are read; the CLI exits 1', async () => {
  const huge = withArch(encodeModel(randomQModel(arch, { seed: 1 })), { height: 32768, width: 32768 });
  assert.throws(() => decodeModel(huge, 'huge.aunet'), (e: Error) => e instanceof FileError && e.code === 'BAD_ARCH' && /outside the limits .*32768/.test(e.message));
  const file = join(tmp.dir, 'huge.aunet');
  writeFileSync(file, huge);
  for (const engine of ['chip', 'direct']) {
    const r = await runAunet(['infer', '--model', file, '--input', join(tmp.dir, 'none.png'), '--out', tmp.dir, '--engine', engine]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^aunet: architecture outside the limits .*32768 \(.*huge\.aunet\): /m);
    assert.doesNotMatch(r.stderr, /internal error/);
  }
});

test('an ONNX model with a 1M x 1M input is refused before the graph is walked', () => {
  const model = onnx.ModelProto.decode(exportOnnx(randomFloatModel(arch, 2)));
  const dims = model.graph!.input![0].type!.tensorType!.shape!.dim!;
  dims[2].dimValue = 1_000_000;
  dims[3].dimValue = 1_000_000;
  const bytes = onnx.ModelProto.encode(model).finish();
  const t0 = performance.now();
  assert.throws(() => importOnnx(bytes, { name: 'huge.onnx' }), (e: Error) => e instanceof FileError && e.code === 'BAD_ARCH' && /huge\.onnx: input '.*' is outside the limits/.test(e.message));
  assert.ok(performance.now() - t0 < 2000);
});
