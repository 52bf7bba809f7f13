// The pipeline's small parts on their own: reconnect backoff (fake timer),
// state machine, stats windows, post-processing and contour tracing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff, type Timer } from '../../../host/publish/backoff.js';
import { StateMachine } from '../../../host/pipeline/state.js';
import { LatencyWindow, PipelineStats } from '../../../host/pipeline/stats.js';
import { postprocess, traceContours } from '../../../host/pipeline/postprocess.js';

class FakeTimer implements Timer {
  now = 0;
  #jobs: { at: number; fn: () => void; id: number }[] = [];
  #id = 0;
  set(fn: () => void, ms: number) {
    const id = ++this.#id;
    this.#jobs.push({ at: this.now + ms, fn, id });
    return id;
  }
  clear(h: unknown) {
    this.#jobs = this.#jobs.filter((j) => j.id !== h);
  }
  advance(ms: number) {
    const end = this.now + ms;
    for (;;) {
      this.#jobs.sort((a, b) => a.at - b.at);
      const j = this.#jobs[0];
      if (!j || j.at > end) break;
      this.#jobs.shift();
      this.now = j.at;
      j.fn();
    }
    this.now = end;
  }
  get pending() {
    return this.#jobs.length;
  }
}

test('backoff doubles from 100 ms to a 1 s cap, resets after success, cancels', () => {
  const timer = new FakeTimer();
  const b = new Backoff({ initialMs: 100, factor: 2, maxMs: 1000, jitter: 0 }, timer);
  const fired: number[] = [];
  const delays: number[] = [];
  const attempt = () => {
    fired.push(timer.now);
    if (fired.length < 7) delays.push(b.schedule(attempt));
  };
  delays.push(b.schedule(attempt));
  timer.advance(10_000);
  assert.deepEqual(delays, [100, 200, 400, 800, 1000, 1000, 1000]);
  assert.deepEqual(fired, [100, 300, 700, 1500, 2500, 3500, 4500]);
  b.reset();
  assert.equal(b.schedule(() => fired.push(-1)), 100);
  assert.equal(b.schedule(() => {}), -1, 'one pending attempt at a time');
  b.cancel();
  timer.advance(1000);
  assert.equal(fired.at(-1), 4500);
  assert.equal(timer.pending, 0);
});

test('backoff jitter stays within +-20 %', () => {
  const timer = new FakeTimer();
  let r = 0;
  const b = new Backoff({ initialMs: 100, factor: 2, maxMs: 1000, jitter: 0.2 }, timer, () => (r = (r + 0.37) % 1));
  for (let i = 0; i < 20; i++) {
    const d = b.schedule(() => {});
    timer.advance(2000);
    const nominal = Math.min(1000, 100 * 2 ** i);
    assert.ok(d >= nominal * 0.8 - 1 && d <= nominal * 1.2 + 1, `${d} vs ${nominal}`);
  }
  assert.throws(() => new Backoff({ initialMs: 0, factor: 2, maxMs: 1, jitter: 0 }), /bad backoff/);
});

test('state machine: warming -> live -> degraded -> live -> stopped, with reasons', () => {
  const sm = new StateMachine(() => 42);
  const seen: string[] = [];
  sm.on('change', (c) => seen.push(`${c.previous}>${c.state}${c.state === 'degraded' ? `(${c.reasons.join(',')})` : ''}`));
  sm.degrade('source-lost'); // a fault during warm-up shows at once
  sm.recover('source-lost');
  sm.warmedUp();
  sm.degrade('falling-behind');
  sm.degrade('falling-behind'); // a reason already held changes nothing
  sm.degrade('source-lost'); // another reason while degraded: a change of reasons, reported
  sm.recover('falling-behind');
  sm.recover('engine-fallback'); // a reason not held changes nothing
  assert.equal(sm.state, 'degraded');
  assert.deepEqual(sm.reasons, ['source-lost']);
  sm.recover('source-lost');
  sm.stop();
  sm.degrade('source-lost'); // ignored once stopped
  assert.deepEqual(seen, [
    'warming>degraded(source-lost)', 'degraded>warming', 'warming>live', 'live>degraded(falling-behind)',
    'degraded>degraded(falling-behind,source-lost)', 'degraded>degraded(source-lost)', 'degraded>live', 'live>stopped',
  ]);
  assert.equal(sm.state, 'stopped');
});

test('latency window: nearest-rank percentiles over the most recent samples only', () => {
  const w = new LatencyWindow(100);
  assert.equal(w.percentiles(), null);
  for (let i = 1; i <= 100; i++) w.add(i);
  assert.deepEqual(w.percentiles(), { p50: 50, p99: 99, max: 100, n: 100 });
  for (let i = 0; i < 100; i++) w.add(1000); // the old samples roll out
  assert.deepEqual(w.percentiles(), { p50: 1000, p99: 1000, max: 1000, n: 100 });
});

test('stats skip the warm-up frames and compute fps per interval', () => {
  let now = 0;
  const s = new PipelineStats(2, 16, () => now);
  for (let i = 0; i < 5; i++) {
    s.framesIn++;
    const c = now;
    // the engine ran 7 of the 10 ms the pipeline waited for it (the rest: hand-off to its thread and back)
    s.published({ capture: c, preparedMs: 0, inferenceStart: c + 1, preprocessed: c + 2, inferred: c + 12, engineMs: 7, postprocessed: c + 13, published: c + 14 + i, cycles: 1000 });
    now += 100;
  }
  s.drop('source');
  const snap = s.snapshot();
  assert.equal(snap.fps.in, 10);
  assert.equal(snap.frames.out, 5);
  assert.equal(snap.latencyMs.endToEnd?.n, 3);
  assert.equal(snap.latencyMs.endToEnd?.p50, 17);
  assert.equal(snap.latencyMs.inference?.max, 10);
  assert.equal(snap.latencyMs.engine?.max, 7);
  assert.equal(snap.chip.cyclesPerFrame, 1000);
  assert.equal(snap.droppedInInterval, 1);
  now += 1000;
  assert.equal(s.snapshot().fps.out, 0);
});

test('stats: preprocessing done in the capture thread counts as preprocessing, not as waiting', () => {
  const s = new PipelineStats(0, 16, () => 0);
  // captured at 0, preprocessed there in 1.5 ms, taken by the pipeline at 2: it waited 0.5 ms
  s.published({ capture: 0, preparedMs: 1.5, inferenceStart: 2, preprocessed: 2.25, inferred: 12, engineMs: 9, postprocessed: 13, published: 14 });
  const l = s.snapshot().latencyMs;
  assert.equal(l.queue?.max, 0.5);
  assert.equal(l.preprocess?.max, 1.75);
  assert.equal(l.endToEnd?.max, 14, 'capture to publish is unchanged');
});

/** Pixels of a region that touch the outside (4-neighbourhood, or the image border). */
function boundary(mask: Uint8Array, W: number, H: number): Set<string> {
  const out = new Set<string>();
  const at = (x: number, y: number) => x >= 0 && y >= 0 && x < W && y < H && mask[y * W + x] === 1;
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) if (at(x, y) && (!at(x - 1, y) || !at(x + 1, y) || !at(x, y - 1) || !at(x, y + 1))) out.add(`${x},${y}`);
  return out;
}

test('contour of a filled disc: every boundary pixel, 8-connected steps, clockwise', () => {
  const W = 64;
  const H = 48;
  const prob = new Uint8Array(W * H);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) if ((x - 30) ** 2 + (y - 20) ** 2 <= 100) prob[y * W + x] = 200;
  const r = postprocess(prob, W, H, { threshold: 128 });
  assert.equal(r.contours.length, 1);
  const c = r.contours[0];
  const pts = new Set<string>();
  let signedArea = 0;
  const n = c.length / 2;
  for (let i = 0; i < n; i++) {
    const [x, y, x2, y2] = [c[2 * i], c[2 * i + 1], c[(2 * i + 2) % c.length], c[(2 * i + 3) % c.length]];
    pts.add(`${x},${y}`);
    assert.ok(Math.max(Math.abs(x2 - x), Math.abs(y2 - y)) === 1, `step ${i} is not to an 8-neighbour`);
    signedArea += x * y2 - x2 * y;
  }
  assert.deepEqual(pts, boundary(r.mask, W, H));
  assert.ok(signedArea > 0, 'clockwise on screen (y down) is positive shoelace area');
  assert.equal(r.pixels, 317);
  assert.ok(Math.abs(r.area - 317 / (W * H)) < 1e-12);
  assert.ok(Math.abs(r.meanConfidence - 200 / 256) < 1e-12);
});

test('contours: regions ordered by size, tiny ones dropped, thin shapes, threshold', () => {
  const W = 40;
  const H = 30;
  const mask = new Uint8Array(W * H);
  const rect = (x0: number, y0: number, w: number, h: number) => {
    for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) mask[y * W + x] = 1;
  };
  rect(1, 1, 3, 3); // 9 px
  rect(10, 5, 10, 8); // 80 px
  rect(30, 20, 1, 1); // 1 px: no outline
  for (let i = 0; i < 6; i++) mask[(20 + i) * W + 2 + i] = 1; // a diagonal line, 8-connected
  const polys = traceContours(mask, W, H);
  assert.equal(polys.length, 3);
  assert.equal(polys[0].length / 2, 2 * (10 + 8) - 4);
  assert.equal(polys[1].length / 2, 8);
  // a one-pixel-wide line is walked out and back: 6 pixels, 10 steps
  assert.equal(polys[2].length / 2, 10);
  const prob = new Uint8Array(W * H).fill(128);
  assert.equal(postprocess(prob, W, H, { threshold: 128 }).pixels, 0, 'mask is prob > threshold, strictly');
  assert.equal(postprocess(prob, W, H, { threshold: 127 }).pixels, W * H);
});

test('contours: many regions stay within the point budget', () => {
  const W = 160;
  const H = 160;
  const mask = new Uint8Array(W * H);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) if (((x >> 4) + (y >> 4)) % 2 === 0 && x % 16 && y % 16) mask[y * W + x] = 1;
  const polys = traceContours(mask, W, H);
  assert.equal(polys.length, 8);
  assert.ok(polys.reduce((s, p) => s + p.length / 2, 0) <= 512);
});
