// Files that Keras itself writes, with the study's own layer classes
// (EncoderBlock, DecoderBlock, AttentionGate; models/training/independent/study_keras.py),
// Keras 3.15 on TensorFlow 2.21: the legacy HDF5 of model.save('x.h5') /
// ModelCheckpoint('x.h5') and the default .keras archive. Fixtures and Keras'
// own output on one frame: tests/models/keras/fixtures/, written by
// `train_keras.py --tiny` (F=2, 32x32x1, random BatchNorm statistics).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { strToU8, unzipSync, zipSync } from 'fflate';
import { FileError } from '../../../common/errors.js';
import { runFloat } from '../../../models/float-reference.js';
import { importKeras } from '../../../models/keras/import.js';

const FIX = 'tests/models/keras/fixtures';
const expected = JSON.parse(readFileSync(join(FIX, 'study-tiny-output.json'), 'utf8')) as { keras: string; pixels: number[]; prob: number[] };

async function refuses(file: string, pattern: RegExp) {
  await assert.rejects(importKeras(file), (e: unknown) => {
    assert.ok(e instanceof FileError, `expected FileError, got ${String(e)}`);
    assert.equal(e.code, 'KERAS_LAYOUT');
    assert.match(e.message, pattern);
    return true;
  });
}

describe(`Keras-written files (Keras ${expected.keras})`, () => {
  for (const [file, format] of [['study-tiny.h5', 'keras-h5'], ['study-tiny.keras', 'keras-v3']] as const) {
    it(`${file}: imports and the float reference gives Keras' own output`, async () => {
      const m = await importKeras(join(FIX, file));
      assert.deepEqual(m.arch, { filters: 2, channels: 1, height: 32, width: 32 });
      assert.equal(m.source?.format, format);
      const prob = runFloat(m, Uint8Array.from(expected.pixels)).get('prob')!;
      let worst = 0;
      for (let i = 0; i < prob.length; i++) worst = Math.max(worst, Math.abs(prob[i] - expected.prob[i]));
      assert.ok(worst < 2e-6, `max |float reference - Keras| = ${worst}`);
      // the random BatchNorm statistics arrived (not an identity gate)
      assert.ok(m.batchNorms['ag1.bn'].variance.some((v) => v !== 1));
    });
  }

  it('both files hold the same weights', async () => {
    const [a, b] = await Promise.all([importKeras(join(FIX, 'study-tiny.h5')), importKeras(join(FIX, 'study-tiny.keras'))]);
    for (const name of Object.keys(a.convs)) assert.deepEqual(b.convs[name], a.convs[name], name);
    assert.deepEqual(b.batchNorms, a.batchNorms);
  });

  it('a damaged or foreign .keras archive is refused naming the problem', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keras-bad-'));
    try {
      const files = unzipSync(readFileSync(join(FIX, 'study-tiny.keras')));
      const write = (name: string, f: Record<string, Uint8Array>) => {
        writeFileSync(join(dir, name), zipSync(f));
        return join(dir, name);
      };
      await refuses(write('no-weights.keras', { 'config.json': files['config.json'] }), /expected config\.json and model\.weights\.h5/);
      const cfg = JSON.parse(new TextDecoder().decode(files['config.json']));
      cfg.config.layers.find((l: { name: string }) => l.name === 'Attention2').class_name = 'MyGate';
      await refuses(write('foreign.keras', { ...files, 'config.json': strToU8(JSON.stringify(cfg)) }), /layer 'Attention2' is a MyGate in config\.json/);
      await refuses(write('bad-weights.keras', { ...files, 'model.weights.h5': files['model.weights.h5'].subarray(0, 4000) }), /model\.weights\.h5\): corrupt or unreadable HDF5/);
      const whole = readFileSync(join(FIX, 'study-tiny.keras'));
      writeFileSync(join(dir, 'cut.keras'), whole.subarray(0, whole.length >> 1));
      await refuses(join(dir, 'cut.keras'), /damaged \.keras \(zip\) archive/);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});
