// Freshness without flicker (monitor/src/freshness.ts, docs/monitor.md): the
// stale threshold from the source's frame period, the banner's onset hold and
// its minimum time on screen, first as pure timing, then in real Chromium
// against a real broker with streams of known timing: paused, slow (5 fps)
// and bursty. The browser checks compare the page's own records (when each
// frame arrived, when each banner went up and down, on the page's clock), so
// a machine too loaded to deliver frames on time cannot fail them wrongly:
// a late frame is a real gap, and the rule is checked against the real gaps.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { BannerTiming, FramePeriod, MIN_BANNER_MS, ONSET_HOLD_MS, staleAfterMs } from '../../monitor/src/freshness.js';
import { SafetyMonitor } from '../../monitor/src/safety.js';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../host/publish/broker.js';
import { ARTIFACTS, buildMonitor, counters, launchChromium, waitState, type PageCounters } from './harness.js';
import { SyntheticDevice, bursts, steady } from './synthetic-device.js';
import { sleep } from '../support/aunet-cli.js';

test('threshold: max(250 ms, 3 frame periods); the period is the nominal one unless frames come markedly slower', () => {
  assert.deepEqual([null, 1000 / 30, 100, 200].map(staleAfterMs), [250, 250, 300, 600]);
  const p = new FramePeriod();
  assert.equal(p.ms, null);
  p.setNominalFps(10);
  assert.equal(p.ms, 100);
  for (const t of [0, 250, 500, 750, 1000]) p.arrived(t); // falling behind: one frame in 250 ms
  assert.equal(p.ms, 250, 'observed slower than nominal: observed');
  p.reset();
  for (const t of [0, 105, 212, 318, 420]) p.arrived(t); // jitter around the nominal rate
  assert.equal(p.ms, 100, 'jitter: the nominal period');
  p.reset();
  for (const t of [0, 15, 30, 330, 345, 360, 660, 675]) p.arrived(t); // bursts at a nominal 10 fps
  assert.equal(p.ms, 100, 'bursts: the nominal period, not the gaps or the 15 ms inside a burst');
  p.setNominalFps(null);
  assert.equal(p.ms, 15, 'no nominal rate (a live camera): observed');
});

test('banner timing: onset hold, at least 500 ms on screen, cleared by two frames in a row', () => {
  const b = new BannerTiming(0);
  b.frame();
  b.frame();
  assert.equal(b.update('live', 0, 400), 'connecting', 'the start banner also stays 500 ms');
  assert.equal(b.update('live', 0, 500), 'live');
  assert.equal(b.update('stale', 1000, 1000 + ONSET_HOLD_MS - 1), 'live', 'raw stale for less than the hold: no banner');
  assert.equal(b.update('live', 0, 1150), 'live');
  assert.equal(b.update('stale', 2000, 2000 + ONSET_HOLD_MS), 'stale');
  b.frame(); // one stray frame
  assert.equal(b.update('live', 0, 2300), 'stale', 'one frame does not clear it');
  assert.equal(b.update('stale', 2400, 2450), 'stale');
  b.frame();
  b.frame();
  assert.equal(b.update('live', 0, 2550), 'stale', 'two frames, but the banner is up 450 ms only');
  assert.equal(b.update('offline', 2560, 2560), 'offline', 'from one banner to another at once');
  assert.equal(b.bannerAt, 2100, 'the same banner stays up');
  b.frame();
  b.frame();
  assert.equal(b.update('live', 0, 2600), 'live');
});

test('banner timing over random streams: every banner lasts >= 500 ms and comes within hold + 10 ms of a real gap', () => {
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  for (let run = 0; run < 20; run++) {
    const s = new SafetyMonitor(0, { staleMs: null });
    s.connected(0);
    s.period.setNominalFps(10);
    const b = new BannerTiming(0);
    const arrivals: number[] = [];
    for (let t = 0; t < 20_000; ) {
      t += rnd() < 0.1 ? 200 + rnd() * 900 : 20 + rnd() * 120; // mostly steady, sometimes a gap
      arrivals.push(Math.round(t));
    }
    let shown = 'connecting';
    let upAt = 0;
    for (let now = 0, i = 0; now < 20_000; now += 10) {
      while (i < arrivals.length && arrivals[i] <= now) {
        s.frame(i, arrivals[i]);
        b.frame();
        i++;
      }
      const raw = s.view(now);
      const next = b.update(raw.state, raw.since, now);
      if (next !== shown) {
        if (shown !== 'live' && next === 'live') assert.ok(now - upAt >= MIN_BANNER_MS, `banner of ${now - upAt} ms (run ${run})`);
        if (shown === 'live') {
          upAt = now;
          assert.ok(raw.state !== 'live' && now - raw.since >= ONSET_HOLD_MS && now - raw.since < ONSET_HOLD_MS + 10, `onset ${now - raw.since} ms after the raw state began`);
        }
        shown = next;
      }
    }
  }
});

// ---- in Chromium
let broker: EmbeddedBroker;
let browser: Browser;
const figures: Record<string, unknown> = {};

before(async () => {
  buildMonitor();
  broker = await startEmbeddedBroker({ port: 0, httpPort: 0 });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await broker?.close();
  // the measured display timing (docs/monitor.md, "Freshness"): in the artifacts and in the test's output
  writeFileSync(`${ARTIFACTS}/freshness-figures.json`, JSON.stringify(figures, null, 2) + '\n');
  process.stdout.write(`freshness figures (ms, page clock): ${JSON.stringify(figures)}\n`);
});

interface Banner {
  state: string;
  up: number;
  down: number | null;
  /** ms from the last frame before it to its onset */
  onset: number;
  /** ms from the first frame after it to its clearing */
  clear: number | null;
}

/** The banners the page showed, matched to its own frame arrivals, each checked against the rule. */
function banners(c: PageCounters, since: number): Banner[] {
  const arrivals = c.arrivalTimes.filter((t) => t >= since);
  const out: Banner[] = [];
  const tr = c.transitions.filter((t) => t.at >= since);
  for (let i = 0; i < tr.length; i++) {
    if (tr[i].state === 'live') continue;
    if (i > 0 && tr[i - 1].state !== 'live') continue; // a change of title while up
    const up = tr[i].at;
    const downTr = tr.slice(i + 1).find((t) => t.state === 'live');
    const down = downTr?.at ?? null;
    const before = arrivals.filter((a) => a <= up).at(-1) ?? since;
    const afterGap = arrivals.filter((a) => a > up);
    out.push({ state: tr[i].state, up, down, onset: up - before, clear: down !== null && afterGap.length ? down - afterGap[0] : null });
  }
  return out;
}

/** Gaps between arrivals (page clock) longer than `ms`. */
function gaps(c: PageCounters, since: number, until: number, ms: number): [number, number][] {
  const a = c.arrivalTimes.filter((t) => t >= since && t <= until);
  const out: [number, number][] = [];
  for (let i = 1; i < a.length; i++) if (a[i] - a[i - 1] > ms) out.push([a[i - 1], a[i]]);
  return out;
}

async function openDevice(id: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(`${broker.monitorUrl}?device=${id}`);
  return page;
}

const pageNow = (page: Page) => page.evaluate(() => performance.timeOrigin + performance.now());
/** the display latency bound: the page's 50 ms tick, its event loop, the screen */
const SLACK = 250;

test('freshness in Chromium: paused stream -> STALE once, after 3 periods + hold; cleared by the resumed stream after >= 500 ms', { timeout: 60_000 }, async () => {
  const dev = await SyntheticDevice.connect(broker.url, 'fresh-paused', broker.serviceUser);
  await dev.status({}, 10);
  const page = await openDevice(dev.id);
  try {
    await dev.play(steady(0, 1500, 100));
    await waitState(page, 'live', 10_000);
    const t0 = await pageNow(page);
    await dev.play([...steady(0, 1500, 100), ...steady(3000, 1500, 100)]); // 1.5 s of frames, a 1.6 s pause, 1.5 s again
    await sleep(300);
    const c = await counters(page);
    assert.equal(c.staleMs, 300, 'threshold at a nominal 10 fps');
    const b = banners(c, t0);
    // a banner needs a gap over the threshold; a gap over it by more than the display slack
    // must make one (a loaded machine can stretch a gap to just over the threshold, between ticks)
    const over = gaps(c, t0, Infinity, c.staleMs + ONSET_HOLD_MS);
    const wellOver = gaps(c, t0, Infinity, c.staleMs + ONSET_HOLD_MS + SLACK);
    const seen = `banners ${JSON.stringify(b)}, gaps ${JSON.stringify(over)}`;
    assert.ok(b.length <= over.length, `no banner without a gap: ${seen}`);
    assert.ok(b.length >= wellOver.length, `one banner per real gap: ${seen}`);
    assert.ok(b.length >= 1, 'the pause made one');
    for (const x of b) {
      assert.equal(x.state, 'stale');
      assert.ok(x.onset >= c.staleMs + ONSET_HOLD_MS && x.onset <= c.staleMs + ONSET_HOLD_MS + SLACK, `onset ${x.onset.toFixed(0)} ms after the last frame`);
      assert.ok(x.down !== null && x.down - x.up >= MIN_BANNER_MS, `banner up ${(x.down ?? NaN) - x.up} ms`);
      assert.ok(x.clear !== null && x.clear <= 100 + SLACK, `cleared ${x.clear} ms after the first new frame (the second comes 100 ms later)`);
    }
    figures.paused = { staleMs: c.staleMs, onsetMs: b.map((x) => Math.round(x.onset)), clearAfterFirstFrameMs: b.map((x) => Math.round(x.clear ?? NaN)), bannerMs: b.map((x) => Math.round((x.down ?? NaN) - x.up)) };
    await page.screenshot({ path: `${ARTIFACTS}/10-fresh-paused-live.png` });
  } finally {
    await page.close();
    await dev.close();
  }
});

test('freshness in Chromium: a slow stream (5 fps) is never STALE while it runs; it is when it stops', { timeout: 60_000 }, async () => {
  const dev = await SyntheticDevice.connect(broker.url, 'fresh-slow', broker.serviceUser);
  await dev.status({}, 5);
  const page = await openDevice(dev.id);
  try {
    await dev.play(steady(0, 1200, 200));
    await waitState(page, 'live', 10_000);
    const t0 = await pageNow(page);
    await dev.play(steady(0, 4000, 200));
    const end = await pageNow(page);
    await waitState(page, 'stale', 3000);
    await sleep(100);
    const c = await counters(page);
    assert.equal(c.staleMs, 600, 'threshold at a nominal 5 fps');
    const running = banners(c, t0).filter((x) => x.up < end);
    assert.deepEqual(running.map((x) => x.up), gaps(c, t0, end, c.staleMs + ONSET_HOLD_MS + 50).map(([a]) => a + c.staleMs).slice(0, running.length), 'no banner without a real gap');
    assert.equal(running.length, gaps(c, t0, end, c.staleMs + ONSET_HOLD_MS + 50).length);
    const last = banners(c, t0).at(-1)!;
    assert.ok(last.onset >= c.staleMs + ONSET_HOLD_MS && last.onset <= c.staleMs + ONSET_HOLD_MS + SLACK, `stopped: STALE ${last.onset.toFixed(0)} ms after the last frame`);
    figures.slow = { staleMs: c.staleMs, bannersWhileRunning: running.length, onsetAfterStopMs: Math.round(last.onset) };
    await page.screenshot({ path: `${ARTIFACTS}/11-fresh-slow-stopped.png` });
  } finally {
    await page.close();
    await dev.close();
  }
});

test('freshness in Chromium: a bursty stream draws no banner for short gaps, and banners of >= 500 ms for long ones', { timeout: 60_000 }, async () => {
  const dev = await SyntheticDevice.connect(broker.url, 'fresh-bursty', broker.serviceUser);
  await dev.status({}, 10);
  const page = await openDevice(dev.id);
  try {
    await dev.play(steady(0, 1000, 100));
    await waitState(page, 'live', 10_000);
    const t0 = await pageNow(page);
    await dev.play(bursts(0, 3000, 330)); // gaps of ~300 ms: past the 300 ms threshold by less than the hold
    const mid = await pageNow(page);
    await dev.play(bursts(0, 4200, 700)); // gaps of ~670 ms: banners
    await sleep(1000);
    const c = await counters(page);
    const all = banners(c, t0);
    const shortPhase = all.filter((x) => x.up < mid);
    assert.equal(shortPhase.length, gaps(c, t0, mid, c.staleMs + ONSET_HOLD_MS + 50).length, `bursts 330 ms apart: banners only for real long gaps: ${JSON.stringify(shortPhase)}`);
    const longPhase = all.filter((x) => x.up >= mid);
    assert.ok(longPhase.length >= 2, `bursts 700 ms apart draw banners: ${JSON.stringify(longPhase)}`);
    for (const x of all) if (x.down !== null) assert.ok(x.down - x.up >= MIN_BANNER_MS, `no banner under 500 ms: ${x.down - x.up}`);
    figures.bursty = {
      staleMs: c.staleMs,
      bannersAt330: shortPhase.length,
      bannersAt700: longPhase.length,
      onsetMs: all.map((x) => Math.round(x.onset)),
      clearAfterFirstFrameMs: all.map((x) => Math.round(x.clear ?? NaN)),
      shortestBannerMs: Math.round(Math.min(...all.filter((x) => x.down !== null).map((x) => x.down! - x.up))),
    };
  } finally {
    await page.close();
    await dev.close();
  }
});
