// `aunet export` end to end: a Keras .h5 and a PyTorch .onnx become ONNX files
// onnxruntime runs with the float reference's answer; an .aunet is refused
// with the reason; bad flags exit 2.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Command } from 'commander';
import { register } from '../../../host/commands/export.js';
import { AunetError, FileError, UsageError } from '../../../common/errors.js';
import { runFloat } from '../../../models/float-reference.js';
import { importOnnxWithInfo } from '../../../models/onnx/import.js';
import { randomFloatModel, syntheticFrames } from '../../../models/random-model.js';
import { writeKerasH5 } from '../../models/keras/keras-fixture.js';
import { runOrt } from '../../models/onnx/ort.js';
import { maxAbsDiff, torchFixtures } from '../../models/onnx/torch-fixtures.js';

const dir = join('test-artifacts', 'importers', `cli-${process.pid}`);
const aunet = (...args: string[]) => spawnSync(process.execPath, ['bin/aunet.js', 'export', ...args], { encoding: 'utf8', timeout: 60_000 });

/**
 * The command in this process (one real spawn above is enough; each costs seconds here). Its output
 * is copied, not swallowed: the test runner reports on this process's stdout too, and a report
 * written meanwhile (the test before's) was lost, that test then missing from the count.
 */
async function exportInProcess(...args: string[]): Promise<{ out: string; error?: AunetError }> {
  const program = new Command('aunet').exitOverride();
  register(program);
  let out = '';
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    out += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    return write.call(process.stdout, chunk, ...rest);
  }) as typeof process.stdout.write;
  try {
    await program.parseAsync(['node', 'aunet', 'export', ...args]);
    return { out };
  } catch (e) {
    if (e instanceof AunetError) return { out, error: e };
    throw e;
  } finally {
    process.stdout.write = write;
  }
}

describe('aunet export', () => {
  before(() => mkdirSync(dir, { recursive: true }));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('--from model.h5 --layout NHWC writes an ONNX model onnxruntime runs like the float reference', async () => {
    const source = randomFloatModel({ filters: 2, height: 32, width: 32, channels: 1 }, 8);
    await writeKerasH5(join(dir, 'study.h5'), source);
    const out = join(dir, 'study.onnx');
    const r = aunet('--from', join(dir, 'study.h5'), '--onnx', out, '--layout', 'NHWC');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /F=2 32x32x1 \(Keras HDF5\)/);
    assert.match(r.stdout, /input 'input' float32 \[1, 32, 32, 1\]/);
    const px = syntheticFrames(source.arch, 1)[0];
    const ort = await runOrt(out, px, source.arch, 'NHWC');
    assert.ok(maxAbsDiff(ort.prob, runFloat(source, px).get('prob')!) < 1e-5);
  });

  it('--from a PyTorch export with folded BatchNorm keeps its pads and statistics', async () => {
    const f = torchFixtures().find((x) => x.kind === 'kerasPad')!;
    const out = join(dir, 'torch.onnx');
    const r = await exportInProcess('--from', f.onnx, '--onnx', out, '--fold-batchnorm', '--opset', '11');
    assert.equal(r.error, undefined);
    assert.match(r.out, /ONNX opset 13 from pytorch 1\.13\.0, NCHW input, gate BatchNorm as BatchNormalization/);
    const { model, info } = importOnnxWithInfo(out);
    assert.equal(info.batchNormForm, 'Mul+Add');
    assert.equal(info.opset, 11);
    assert.deepEqual(model.convs['ag1.s'].pads, [0, 0, 1, 1]);
  });

  it('refuses an .aunet (by extension or by magic): the float weights are gone', async () => {
    writeFileSync(join(dir, 'm.bin'), Buffer.from('\x89AUNET\r\n0000', 'latin1'));
    for (const file of [join(dir, 'm.bin'), join(dir, 'absent.aunet')]) {
      const r = await exportInProcess('--from', file, '--onnx', join(dir, 'x.onnx'));
      assert.ok(r.error instanceof FileError);
      assert.equal(r.error.exitCode, 1);
      assert.match(r.error.message, /an \.aunet model holds only the int8 weights: the float weights an ONNX export needs are gone/);
    }
  });

  it('bad flags are usage errors (exit 2) naming the flag', async () => {
    for (const [flags, msg] of [
      [['--layout', 'CHW'], /--layout must be NCHW or NHWC/],
      [['--input-size', '256'], /--input-size must be HEIGHTxWIDTH/],
      [['--opset', '9'], /--opset: must be an integer 11\.\.18/],
    ] as const) {
      const r = await exportInProcess('--from', 'x.onnx', '--onnx', 'y.onnx', ...flags);
      assert.ok(r.error instanceof UsageError, String(r.error));
      assert.equal(r.error.exitCode, 2);
      assert.match(r.error.message, msg);
    }
  });
});
