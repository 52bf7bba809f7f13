import { test } from 'node:test';
import assert from 'node:assert/strict';
import { confusion, metricsOf } from '../../../models/datasets/metrics.js';
import { summarize, type ImageResult } from '../../../host/evaluation/evaluate.js';

const m = (s: string) => Uint8Array.from(s, (c) => (c === '1' ? 1 : 0));

test('metric definitions on a hand case', () => {
  // truth 1100 1100, pred 0110 0000 -> TP 1, FP 1, FN 3, TN 3
  const c = confusion(m('11001100'), m('01100000'));
  assert.deepEqual(c, { tp: 1, fp: 1, fn: 3, tn: 3 });
  const r = metricsOf(c);
  assert.equal(r.accuracy, 4 / 8);
  assert.equal(r.dice, 2 / (2 + 1 + 3));
  assert.equal(r.iou, 1 / 5);
  assert.equal(r.sensitivity, 1 / 4);
  assert.equal(r.specificity, 3 / 4);
  assert.equal(r.predictedArea, 2 / 8);
});

test('empty truth: Dice/IoU of an empty prediction is 1, sensitivity undefined; an empty prediction of a lesion scores 0', () => {
  const e = metricsOf(confusion(m('0000'), m('0000')));
  assert.equal(e.dice, 1);
  assert.ok(Number.isNaN(e.sensitivity));
  const miss = metricsOf(confusion(m('0110'), m('0000')));
  assert.equal(miss.dice, 0);
  assert.equal(miss.sensitivity, 0);
  assert.throws(() => confusion(m('01'), m('011')), /differ in size/);
});

test('summary: lesion row is the mean over benign and malignant images; emptyRate counts area < 0.5%', () => {
  const r = (cls: 'benign' | 'malignant' | 'normal', dice: number, predictedArea = 0.1): ImageResult => ({
    entry: { name: `${cls}-${dice}`, cls, image: '', masks: [], split: 'val' },
    width: 10, height: 10, accuracy: 1, dice, iou: dice / (2 - dice), sensitivity: 1, specificity: 1, predictedArea,
    // the decision calls a lesion wherever more than 0.5% is predicted; a missed lesion shows nothing
    decision: { cls, score: predictedArea, lesion: predictedArea > 0.005, shownDice: predictedArea > 0.005 ? dice : cls === 'normal' ? 1 : 0, shownIou: 0 },
  });
  const s = summarize('m', [r('benign', 0.9), r('benign', 0.5), r('malignant', 0.1), r('normal', 1, 0), r('normal', 1, 0.004), r('normal', 0, 0.006), r('normal', 0, 0.3)]);
  assert.equal(s.images, 7);
  assert.equal(s.classes.benign.n, 2);
  assert.ok(Math.abs(s.classes.benign.dice - 0.7) < 1e-12);
  assert.equal(s.lesion.n, 3);
  assert.ok(Math.abs(s.lesion.dice - 0.5) < 1e-12);
  assert.equal(s.classes.normal.emptyRate, 0.5);
  assert.deepEqual(Object.keys(s.classes.benign), ['n', 'dice', 'iou', 'accuracy', 'sensitivity', 'specificity']);
  assert.deepEqual(Object.keys(s), ['model', 'images', 'classes', 'lesion', 'decision']);
  // image level: every lesion image detected, 2 of 4 normal images left clean
  assert.equal(s.decision.sensitivity.value, 1);
  assert.equal(s.decision.specificity.clean, 2);
  assert.equal(s.decision.specificity.n, 4);
  assert.ok(s.decision.specificity.ci95[0] < 0.5 && s.decision.specificity.ci95[1] > 0.5);
});
