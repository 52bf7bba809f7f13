import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseThreshold, decide, decisionRule, MASK_ONLY_RULE, presenceScore, wilson } from '../../models/lesion-decision.js';
import { prng } from '../../models/random-model.js';

test('presence score is the mean of the k highest probabilities (k a fraction of the pixels)', () => {
  const r = prng(3);
  const prob = Uint8Array.from({ length: 128 * 128 }, () => Math.floor(r() * 256));
  const sorted = [...prob].sort((a, b) => b - a);
  const want = sorted.slice(0, 64).reduce((s, v) => s + v, 0) / 64 / 256;
  assert.equal(presenceScore(prob, 64 / (128 * 128)), want);
  assert.equal(presenceScore(new Uint8Array(100), 0.5), 0);
  assert.equal(presenceScore(Uint8Array.from([0, 255]), 1e-9), 255 / 256, 'k is at least 1');
});

test('decide: lesion when the score reaches the threshold; a model without a rule falls back to "some pixel over 0.5"', () => {
  const prob = new Uint8Array(128 * 128);
  assert.equal(decide(prob, MASK_ONLY_RULE).lesion, false);
  prob[5] = 129;
  assert.equal(decide(prob, MASK_ONLY_RULE).lesion, true, 'one pixel over 0.5, as the mask showed it');
  const rule = { rule: 'topk-mean' as const, fraction: 64 / 16384, threshold: 0.75 };
  assert.equal(decide(prob, rule).lesion, false);
  prob.fill(200, 0, 64);
  assert.equal(decide(prob, rule).lesion, true);
  assert.deepEqual(decisionRule({ meta: { decision: rule } }), rule);
  assert.deepEqual(decisionRule({ meta: { decision: { ...rule, threshold: 0.2 } } }), MASK_ONLY_RULE, 'a threshold under 0.5 could call a frame without any mask a lesion');
  assert.deepEqual(decisionRule({}), MASK_ONLY_RULE);
});

test('Wilson interval: known values, and wide for 21 images', () => {
  const [lo, hi] = wilson(18, 21);
  assert.ok(Math.abs(lo - 0.6536) < 1e-3 && Math.abs(hi - 0.9502) < 1e-3, `${lo} ${hi}`);
  assert.deepEqual(wilson(0, 0), [0, 1]);
  const [l2, h2] = wilson(20, 20);
  assert.ok(l2 > 0.83 && h2 === 1);
});

test('chooseThreshold keeps the sensitivity bar and takes the highest threshold that does', () => {
  const lesion = [0.9, 0.95, 0.99, 0.7, 0.8, 0.85, 0.92, 0.97, 0.6, 0.98];
  const normal = [0.3, 0.55, 0.65, 0.75, 0.4];
  const c = chooseThreshold(lesion, normal, 0.9);
  assert.ok(c.sensitivity >= 0.9);
  assert.ok(lesion.filter((s) => s >= c.threshold + 1 / 256).length / lesion.length < 0.9, 'one step higher breaks the bar');
  assert.equal(c.specificity, normal.filter((s) => s < c.threshold).length / normal.length);
  assert.equal(chooseThreshold(lesion, normal, 1).threshold, Math.floor(0.6 * 256) / 256);
  assert.throws(() => chooseThreshold([], normal, 0.9), /no lesion images/);
});
