// Both engines refuse the same broken in-memory model, and the same bad frame,
// with the same code and message: they share one model check and one frame
// check (host/engine/engine-input.ts). Before, the chip engine (the default of
// `aunet run`) skipped validation and failed later with "internal: ... has no
// parameters".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Arch } from '../../../models/graph.js';
import type { QAdd, QConv, QModel, QSigmoid } from '../../../models/qmodel.js';
import { randomQModel } from '../../../models/random-qmodel.js';
import { AunetError } from '../../../common/errors.js';
import { createReferenceKernels } from '../../../host/kernels/reference/index.js';
import { createDirectEngine } from '../../../host/engine/direct-executor.js';
import { createChipEngine } from '../../../host/chip/chip-engine.js';
import type { Engine } from '../../../host/engine/engine.js';

const arch: Arch = { filters: 2, height: 32, width: 32, channels: 1 };

const spoilers: [string, (m: QModel) => void, RegExp][] = [
  ['missing op params', (m) => { delete m.ops['ag3.sigmoid']; }, /ops\.ag3\.sigmoid.*missing/],
  ['params of another kind', (m) => { m.ops['ag1.add'] = { kind: 'concat', inputA: { multiplier: 0, shift: 0 }, inputB: { multiplier: 0, shift: 0 } }; }, /ops\.ag1\.add\.kind.*"add".*"concat"/],
  ['short weights', (m) => { const c = m.ops['dec2.conv1'] as QConv; c.weights = c.weights.subarray(1); }, /ops\.dec2\.conv1\.weights.*has \d+ values/],
  ['shift out of range', (m) => { (m.ops['enc1.conv1'] as QConv).shift = new Int32Array(2).fill(40); }, /ops\.enc1\.conv1.*shift.*40/],
  ['bad pads', (m) => { (m.ops['ag1.s'] as QConv).pads = [0, 0, 0, 0]; }, /ops\.ag1\.s\.pads/],
  ['short sigmoid table', (m) => { (m.ops['out.sigmoid'] as QSigmoid).lut = new Int8Array(255); }, /ops\.out\.sigmoid\.lut.*255/],
  ['bad add left shift', (m) => { (m.ops['ag2.add'] as QAdd).leftShift = -1; }, /ops\.ag2\.add\.leftShift/],
  ['zero point out of range', (m) => { m.tensors['c3'] = { scale: 0.1, zeroPoint: 200 }; }, /tensors\.c3\.zeroPoint.*200/],
  ['missing tensor params', (m) => { delete m.tensors['p2']; }, /tensors\.p2.*missing/],
  ['op the graph lacks', (m) => { m.ops['enc9.conv'] = m.ops['enc1.conv1']; }, /ops\.enc9\.conv.*not an op/],
  ['params on a max-pool', (m) => { m.ops['enc1.pool'] = m.ops['ag1.add']; }, /ops\.enc1\.pool.*no parameters/],
  ['bad arch', (m) => { m.arch = { ...arch, height: 40 }; }, /arch\.height.*multiple of 16/],
  ['no preprocessing', (m) => { (m as { preprocessing?: unknown }).preprocessing = undefined; }, /preprocessing.*missing/],
];

const engines: [string, (m: QModel) => Engine][] = [
  ['direct', (m) => createDirectEngine(m, createReferenceKernels())],
  ['chip', (m) => createChipEngine(m, createReferenceKernels(), { chip: 'nv_small' })],
];

function refusal(f: () => unknown): AunetError {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof AunetError, `expected an AunetError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a refusal');
}

test('both engines refuse the same broken model with BAD_MODEL and the same message naming the field', () => {
  for (const [what, spoil, pattern] of spoilers) {
    const errors = engines.map(([name, make]) => {
      const model = randomQModel(arch, { seed: 3 });
      spoil(model);
      const e = refusal(() => make(model));
      assert.equal(e.code, 'BAD_MODEL', `${name}, ${what}: ${e.message}`);
      assert.equal(e.exitCode, 1);
      assert.match(e.message, pattern, `${name}, ${what}`);
      return e.message;
    });
    assert.equal(errors[0], errors[1], what);
  }
});

test('both engines refuse the same bad frame with the same code and message', () => {
  const model = randomQModel(arch, { seed: 3 });
  const built = engines.map(([, make]) => make(model));
  for (const [frame, code] of [[new Uint8Array(10), 'BAD_FRAME_SIZE'], [new Uint8Array(32 * 32 + 1), 'BAD_FRAME_SIZE'], [new Int8Array(32 * 32), 'BAD_INPUT'], [[1, 2, 3], 'BAD_INPUT']] as const) {
    const errors = built.map((e) => refusal(() => e.run(frame as unknown as Uint8Array)));
    for (const e of errors) assert.equal(e.code, code);
    assert.equal(errors[0].message, errors[1].message);
  }
  // and both still run a good frame afterwards, with the same answer
  const f = new Uint8Array(32 * 32).map((_, i) => (i * 7) & 255);
  assert.deepEqual(built[1].run(f).prob, built[0].run(f).prob);
});
