// The model commands end to end, as a user runs them: quantize a PyTorch ONNX
// export on phantom frames, inspect it, compare it with its float source on
// BUSI images, infer (twice: identical files) and explain.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { decode } from 'fast-png';
import { readModel } from '../../../models/format.js';
import { buildGraph } from '../../../models/graph.js';
import { torchFixtures } from '../../models/onnx/torch-fixtures.js';
import { PACKAGE_ROOT } from '../../../common/package-root.js';

const root = PACKAGE_ROOT;
const busi = join(root, '..', 'shared', 'data', 'busi');
const image = join(busi, 'malignant', 'malignant (5).png');
const work = join(root, 'test-artifacts', 'models-cli');
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

function aunet(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'host', 'cli.ts'), ...args], { cwd: root, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function ok(...args: string[]): string {
  const r = aunet(...args);
  assert.equal(r.code, 0, `aunet ${args.join(' ')} failed (${r.code}):\n${r.stderr}`);
  return r.stdout;
}

const fx = torchFixtures().find((f) => f.name === 'torch_op13_fold')!; // F=4, 32x32x3
const model = join(work, 'm.aunet');

test('quantize --calib-phantom writes a model with provenance; inspect describes it', () => {
  const out = ok('quantize', '--from', fx.onnx, '--calib-phantom', '6', '--out', model, '--no-progress');
  assert.match(out, /wrote .*m\.aunet: F=4 32x32x3, 6 calibration frames \(auto: equalisation [\d.]+, start \w+, \d+ tensors changed; objective/);
  const q = readModel(model);
  const prov = (q.meta as any).provenance;
  assert.equal(prov.calibration.method, 'auto', 'the default searches against the output');
  assert.ok([0, 0.5, 1].includes(prov.calibration.equalize));
  assert.ok(prov.calibration.objective.end <= prov.calibration.objective.start);
  assert.ok(!prov.source.file.startsWith('/'), `provenance names no absolute path: ${prov.source.file}`);
  assert.equal(prov.source.sha256, createHash('sha256').update(readFileSync(fx.onnx)).digest('hex'));
  assert.equal(prov.source.format, 'onnx');
  assert.equal(prov.calibration.source, 'phantom');
  assert.equal(prov.calibration.frames, 6);
  assert.deepEqual(q.ops['ag1.s'].kind === 'conv' && q.ops['ag1.s'].pads, [1, 1, 1, 1], 'PyTorch padding kept');

  const text = ok('inspect', model);
  assert.match(text, /F=4, input 32x32x3/);
  assert.match(text, /sha256 +[0-9a-f]{64}/);
  assert.match(text, /ag4\.psi +conv +Attention4/);
  const macs = buildGraph(q.arch).ops.length;
  assert.match(text, new RegExp(`${macs} ops, \\d+ parameters .* MACs`));
  const j = JSON.parse(ok('inspect', model, '--json'));
  assert.equal(j.layers.length, macs);
  assert.equal(j.sha256, createHash('sha256').update(readFileSync(model)).digest('hex'), 'sha256 is the whole file, as sha256sum prints it');
  assert.equal(j.digest, readFileSync(model).subarray(-32).toString('hex'), 'digest is the integrity hash stored in the file');

  const p = ok('quantize', '--from', fx.onnx, '--calib-phantom', '3', '--method', 'percentile', '--percentile', '99.9', '--out', join(work, 'p.aunet'), '--no-progress');
  assert.match(p, /\(percentile\)/);
  assert.equal((readModel(join(work, 'p.aunet')).meta as any).provenance.calibration.percentile, 99.9);
});

test('quantize --calib DIR calibrates on images', () => {
  const dir = join(work, 'calib');
  mkdirSync(dir, { recursive: true });
  for (const f of ['benign (3).png', 'benign (3)_mask.png', 'benign (7).png']) writeFileSync(join(dir, f), readFileSync(join(busi, 'benign', f)));
  ok('quantize', '--from', fx.onnx, '--calib', dir, '--out', join(work, 'c.aunet'), '--no-progress');
  const cal = (readModel(join(work, 'c.aunet')).meta as any).provenance.calibration;
  assert.equal(cal.images, 2, 'mask files are not calibration images');
  assert.equal(cal.source, 'images');
});

test('quantize reads the study\'s Keras HDF5 too', async () => {
  const { writeKerasH5 } = await import('../../models/keras/keras-fixture.js');
  const { randomFloatModel } = await import('../../../models/random-model.js');
  const h5 = join(work, 'study.h5');
  await writeKerasH5(h5, randomFloatModel({ filters: 2, height: 32, width: 32, channels: 3 }, 9));
  ok('quantize', '--from', h5, '--calib-phantom', '2', '--out', join(work, 'k.aunet'), '--no-progress');
  const q = readModel(join(work, 'k.aunet'));
  assert.equal(q.arch.filters, 2);
  assert.equal((q.meta as any).provenance.source.format, 'keras-h5');
  assert.deepEqual(q.ops['ag1.s'].kind === 'conv' && q.ops['ag1.s'].pads, [0, 0, 1, 1], "Keras 'same' at stride 2");
});

test('bad usage and bad files give clear errors', () => {
  let r = aunet('quantize', '--from', fx.onnx, '--out', join(work, 'x.aunet'));
  assert.equal(r.code, 2);
  assert.match(r.stderr, /exactly one of --calib DIR or --calib-phantom N/);
  r = aunet('quantize', '--from', fx.onnx, '--calib-phantom', '2', '--method', 'mean', '--out', join(work, 'x.aunet'));
  assert.match(r.stderr, /--method must be one of auto, minmax, percentile, mse/);
  r = aunet('quantize', '--from', join(work, 'nothing.onnx'), '--calib-phantom', '2', '--out', join(work, 'x.aunet'));
  assert.equal(r.code, 1);
  assert.match(r.stderr, /model not found \(.*nothing\.onnx\)/);
  const bad = readFileSync(model);
  bad[bad.length >> 1] ^= 1;
  writeFileSync(join(work, 'bad.aunet'), bad);
  r = aunet('inspect', join(work, 'bad.aunet'));
  assert.equal(r.code, 1);
  assert.match(r.stderr, /corrupted: SHA-256 mismatch .*\(.*bad\.aunet\)/);
  r = aunet('infer', '--model', join(work, 'bad.aunet'), '--input', image, '--out', join(work, 'never'));
  assert.match(r.stderr, /corrupted.*\(.*bad\.aunet\)/);
  assert.ok(!existsSync(join(work, 'never')), 'nothing written for a rejected model');
  r = aunet('infer', '--model', model, '--input', join(work, 'missing.png'), '--out', join(work, 'never'));
  assert.match(r.stderr, /image not found \(.*missing\.png\)/);
});

test('compare --json reports layers, mask Dice and attention agreement, and draws the worst images', () => {
  const outDir = join(work, 'compare');
  const j = JSON.parse(ok('compare', '--float', fx.onnx, '--int8', model, '--dataset', busi, '--limit', '3', '--json', '--out', outDir, '--worst', '2', '--no-progress'));
  const g = buildGraph(readModel(model).arch);
  assert.equal(j.images, 3);
  assert.equal(j.layers.length, g.tensors.size);
  for (const l of j.layers) for (const k of ['rmse', 'maxAbs', 'cosine']) assert.equal(typeof l[k], 'number', `${l.name}.${k}`);
  assert.equal(j.minLayerCosine, Math.min(...j.layers.map((l: any) => l.cosine)));
  assert.ok(j.minLayerCosine > 0.9, `worst layer ${j.worstLayer}: ${j.minLayerCosine}`);
  assert.ok(j.maskDice >= 0 && j.maskDice <= 1);
  assert.equal(j.attention.length, 4);
  assert.equal(j.perImage.length, 3);
  for (const p of j.perImage) {
    assert.equal(p.flip, p.floatLesion !== p.int8Lesion);
    assert.equal(typeof p.maskDice, 'number');
  }
  assert.deepEqual(j.flips, j.perImage.filter((p: any) => p.flip).map((p: any) => p.file));
  const pngs = readdirSync(outDir).filter((f) => f.startsWith('worst-'));
  assert.equal(pngs.length, 2);
  const png = decode(readFileSync(join(outDir, pngs[0])));
  assert.equal(png.height, 256, '32 px panels enlarged 8x');
  assert.equal(png.width, 4 * 256 + 3 * 4, 'four panels side by side');
  assert.deepEqual(JSON.parse(readFileSync(join(outDir, 'report.json'), 'utf8')), j);
  const text = ok('compare', '--float', fx.onnx, '--int8', model, '--dataset', busi, '--limit', '1', '--no-progress');
  assert.match(text, /mask Dice float vs int8: mean/);
  assert.match(text, /per image: mask Dice float vs int8, lesion-present decision float \/ int8\n  \S.*\d\.\d{4}  (lesion|none)/);
  assert.match(text, /decision flips \(float and int8 disagree on lesion \/ no lesion\): \d+ of 1/);
  // held-out images only: the test split of the shipped manifest
  const t = JSON.parse(ok('compare', '--float', fx.onnx, '--int8', model, '--dataset', busi, '--split', 'test', '--limit', '2', '--json', '--no-progress'));
  const testSplit = JSON.parse(readFileSync(join(root, 'models/datasets/busi-split.json'), 'utf8')).images;
  assert.equal(t.images, 2);
  for (const p of t.perImage) assert.equal(testSplit[basename(p.file)].split, 'test', p.file);
});

test('infer writes the seven PNGs, identical on a second run, on the reference kernels and on 3 kernel threads', () => {
  const files = ['mask.png', 'prob.png', 'attention1.png', 'attention2.png', 'attention3.png', 'attention4.png', 'overlay.png'];
  const runs = [['a'], ['b'], ['r', '--kernels', 'reference'], ['t', '--threads', '3', '--engine', 'chip']].map(([name, ...extra]) => {
    const dir = join(work, `infer-${name}`);
    ok('infer', '--model', model, '--input', image, '--out', dir, ...extra);
    assert.deepEqual(readdirSync(dir).sort(), [...files].sort());
    return files.map((f) => readFileSync(join(dir, f)));
  });
  for (let i = 0; i < files.length; i++) {
    assert.ok(runs[0][i].equals(runs[1][i]), `${files[i]} differs between two runs`);
    assert.ok(runs[0][i].equals(runs[2][i]), `${files[i]} differs between wasm and reference kernels`);
    assert.ok(runs[0][i].equals(runs[3][i]), `${files[i]} differs between 1 thread (direct) and 3 threads (chip)`);
  }
  const mask = decode(runs[0][0]);
  assert.equal(mask.width, 32);
  assert.ok([...mask.data].every((v) => v === 0 || v === 255));
  const overlay = decode(runs[0][6]);
  const src = decode(readFileSync(image));
  assert.deepEqual([overlay.width, overlay.height], [src.width, src.height], 'overlay at the original size');
});

test('--threads: infer, eval, replay and run refuse a count out of 1..64 as a usage error naming the flag', () => {
  for (const args of [
    ['infer', '--model', model, '--input', image, '--out', join(work, 'never'), '--threads', '0'],
    ['eval', '--model', model, '--dataset', busi, '--threads', '65'],
    ['replay', 'phantom:?frames=1', '--model', model, '--threads', 'two'],
    ['run', '--model', model, '--threads', '0'],
  ]) {
    const r = aunet(...args);
    assert.equal(r.code, 2, `${args[0]}: ${r.stderr}`);
    assert.match(r.stderr, /--threads/, args[0]);
  }
  assert.match(aunet('infer', '--model', model, '--input', image, '--out', join(work, 'never'), '--threads', '2', '--kernels', 'reference').stderr, /2 threads need the WebAssembly kernels; other kernels run on one thread \(--threads\): pass --kernels wasm, or --threads 1/);
});

test('explain writes occlusion and encoder-activation heatmaps', () => {
  const dir = join(work, 'explain');
  const o = ok('explain', '--model', model, '--input', image, '--method', 'occlusion', '--out', dir, '--no-progress');
  // 32 px input: window round(50 * 32/256) = 6, stride round(30 * 32/256) = 4, centres 0, 4, ..., 28 and 31 per axis
  assert.match(o, /occlusion: 81 windows of 6x6 px/);
  ok('explain', '--model', model, '--input', image, '--method', 'activations', '--out', dir);
  assert.deepEqual(readdirSync(dir).sort(), ['encoder1.png', 'encoder2.png', 'encoder3.png', 'encoder4.png', 'occlusion-overlay.png', 'occlusion.png']);
  const heat = decode(readFileSync(join(dir, 'occlusion.png')));
  assert.deepEqual([heat.width, heat.height, heat.channels], [32, 32, 3]);
  const r = aunet('explain', '--model', model, '--input', image, '--method', 'gradcam', '--out', dir);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--method must be occlusion or activations/);
});

test('inspect hands a firmware image to the firmware inspector', async () => {
  const { makeImage } = await import('../box/helpers-firmware.js');
  const dir = join(work, 'fw');
  mkdirSync(dir, { recursive: true });
  const file = await makeImage(dir, generateKeyPairSync('ed25519').privateKey, '1.2.3', 1, { padding: 10 });
  assert.match(ok('inspect', file), /aunet firmware image, format 2/);
  const noExt = join(dir, 'image.bin');
  writeFileSync(noExt, readFileSync(file));
  assert.match(ok('inspect', noExt), /aunet firmware image/, 'recognised by its magic too');
});

test('occlusion draws no window grid: gradients on window-edge columns are no steeper than elsewhere', async () => {
  const { occlusion, occlusionWindows } = await import('../../../host/commands/explain.js');
  const { randomQModel } = await import('../../../models/random-qmodel.js');
  const { loadEngine } = await import('../../../host/load/engine-loader.js');
  const { imageInput } = await import('../../../host/commands/support/model-inputs.js');
  const m = randomQModel({ filters: 4, height: 128, width: 128, channels: 1 }, { seed: 5 });
  const { engine } = await loadEngine(m, { engine: 'direct' });
  const input = imageInput(image, m.arch, m.preprocessing);
  const { heat } = occlusion(engine, input.data, 128, 128, 1);
  const { xs, winX } = occlusionWindows(128, 128);
  const edges = new Set(xs.flatMap((x) => [x, x + winX]));
  const max = Math.max(...heat);
  const mean = (onEdge: boolean) => {
    let s = 0;
    let n = 0;
    for (let y = 0; y < 128; y++) for (let x = 1; x < 128; x++) if (edges.has(x) === onEdge) {
      s += Math.abs(heat[y * 128 + x] - heat[y * 128 + x - 1]) / max;
      n++;
    }
    return s / n;
  };
  const ratio = mean(true) / mean(false);
  assert.ok(ratio < 1.5, `window-edge columns ${ratio.toFixed(2)} x steeper than the others`);
});
