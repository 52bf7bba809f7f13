import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { launchChromium } from '../../monitor/harness.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evaluate } from '../../../host/evaluation/evaluate.js';
import { EvalReport } from '../../../host/evaluation/report.js';
import { openPredictor, type Predictor } from '../../../host/evaluation/predictor.js';
import { readNpyU8 } from '../../../models/datasets/npy.js';
import { makeDataset } from '../../models/datasets/synthetic-busi.js';

/** Bright pixels are lesion: right on the synthetic data, so the metrics must come out near perfect. */
function thresholdPredictor(): Predictor {
  return {
    kind: 'threshold',
    size: { width: 32, height: 32, channels: 1 },
    preprocessing: { resize: 'stretch', normalize: 'unit' },
    async predict(input) {
      const mask = input.map((v) => (v > 110 ? 1 : 0));
      return { mask, prob: mask.map((v) => v * 255), attention: [4, 8, 16, 32].map((s) => ({ width: s / 2, height: s / 2, data: new Uint8Array(s * s / 4).fill(200) })) };
    },
    async close() {},
  };
}

test('eval scores at the original size against the union of masks; report has overlays and histograms', async () => {
  const data = makeDataset(6);
  const dir = mkdtempSync(join(tmpdir(), 'report-'));
  try {
    const report = new EvalReport(dir);
    const { summary, results } = await evaluate('threshold', thresholdPredictor(), { dataset: data, split: 'all', onImage: (r, v) => report.add(r, v) });
    assert.equal(summary.images, 18);
    assert.equal(results[0].width, 64, 'metrics at the original image size');
    assert.ok(summary.lesion.dice > 0.85, `lesion Dice ${summary.lesion.dice}`);
    assert.equal(summary.classes.normal.emptyRate, 1);
    // images with a second mask file: the union is the ground truth, which the threshold finds
    const twoMasks = results.filter((r) => r.entry.masks.length === 2);
    assert.ok(twoMasks.length > 0);
    for (const r of twoMasks) assert.ok(r.sensitivity > 0.8, `${r.entry.name} sensitivity ${r.sensitivity}`);
    const html = readFileSync(report.write(summary, results, 'test'), 'utf8');
    assert.match(html, /dice-hist-benign\.png/);
    const pictures = [...html.matchAll(/src="(img\d+-[a-z0-9]+\.png)"/g)].map((m) => m[1]);
    assert.equal(pictures.length, 8 * 6, '4 best + 4 worst, each overlay + probability + a1..a4');
    for (const p of pictures) assert.ok(existsSync(join(dir, p)), p);
    // in a 1280 px window the picture rows fit (they used to overflow sideways), each picture still readable
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      await page.goto(pathToFileURL(join(dir, 'index.html')).href);
      const fit = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth, widths: [...document.querySelectorAll('table.pictures img')].map((i) => (i as HTMLImageElement).getBoundingClientRect().width) }));
      assert.ok(fit.scroll <= fit.client, `report ${fit.scroll} px wide in a ${fit.client} px window`);
      assert.ok(Math.min(...fit.widths) >= 120, `pictures at least 120 px wide: ${Math.min(...fit.widths)}`);
      mkdirSync('test-artifacts/eval', { recursive: true });
      await page.screenshot({ path: 'test-artifacts/eval/report-1280.png' });
    } finally {
      await browser.close();
    }
  } finally {
    rmSync(data, { recursive: true });
    rmSync(dir, { recursive: true });
  }
});

test('float ONNX path (onnxruntime-node) reproduces PyTorch on an exported AttentionUNet', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'onnx-'));
  try {
    const script = `
import sys, numpy as np, torch
sys.path.insert(0, 'models/training')
from model import AttentionUNet
from train import export_onnx
torch.manual_seed(0)
m = AttentionUNet(2, 1).eval()
x = (np.arange(32 * 32, dtype=np.int64).reshape(1, 32, 32, 1) * 37 % 256).astype(np.uint8)
np.save('${dir}/x.npy', x)
with torch.no_grad():
    p = m(torch.from_numpy(x).permute(0, 3, 1, 2).float() / 255)
np.save('${dir}/p.npy', np.minimum(255, np.round(p.numpy() * 256)).astype(np.uint8))
export_onnx(m, '${dir}/m.onnx', 1, 32)
`;
    execFileSync('/usr/bin/python3', ['-c', script], { stdio: ['ignore', 'ignore', 'pipe'] });
    const predictor = await openPredictor(join(dir, 'm.onnx'), {});
    assert.deepEqual(predictor.size, { width: 32, height: 32, channels: 1 });
    const x = readNpyU8(join(dir, 'x.npy')).data;
    const want = readNpyU8(join(dir, 'p.npy')).data;
    const got = (await predictor.predict(x)).prob;
    let maxDiff = 0;
    for (let i = 0; i < want.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i] - want[i]));
    assert.ok(maxDiff <= 1, `max difference ${maxDiff}/256`);
    await predictor.close();
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('eval reports the lesion-present decision per image and counts evaluated images with a twin in a reference set', async () => {
  const data = makeDataset(6);
  try {
    const { fingerprintEntries } = await import('../../../host/evaluation/near-duplicates.js');
    const { listBusi } = await import('../../../models/datasets/busi.js');
    const all = listBusi(data);
    // reference: two lesion images of the folder itself (twins of themselves, correlation 1)
    const ref = all.filter((e) => e.name === 'benign (2).png' || e.name === 'malignant (4).png');
    const rule = { rule: 'topk-mean' as const, fraction: 64 / 16384, threshold: 0.9 };
    const { summary, results } = await evaluate('threshold', thresholdPredictor(), { dataset: data, split: 'all', decision: rule, twinsOf: { label: 'ref', prints: fingerprintEntries(ref), threshold: 0.999 } });
    // the predictor's lesion pixels are 255/256: every lesion image is called lesion, every normal one clean
    assert.equal(summary.decision.sensitivity.detected, 12);
    assert.equal(summary.decision.specificity.clean, 6);
    assert.ok(summary.decision.specificity.ci95[0] > 0.5 && summary.decision.specificity.ci95[0] < 1);
    assert.equal(summary.decision.auc, 1);
    assert.ok(Math.abs(summary.decision.shownLesion.dice - summary.lesion.dice) < 1e-12, 'nothing suppressed, nothing lost');
    assert.equal(results.find((r) => r.entry.name === 'benign (2).png')!.twin! > 0.999, true);
    assert.equal(summary.twins!.withTwin, 2);
    assert.equal(summary.twins!.twinFree.lesion.n, 10);
    // a threshold no lesion image reaches: all suppressed, shown Dice 0, normal images still clean
    const strict = await evaluate('threshold', thresholdPredictor(), { dataset: data, split: 'all', decision: { ...rule, threshold: 1 } });
    assert.equal(strict.summary.decision.sensitivity.detected, 0);
    assert.equal(strict.summary.decision.shownLesion.dice, 0);
  } finally {
    rmSync(data, { recursive: true });
  }
});
