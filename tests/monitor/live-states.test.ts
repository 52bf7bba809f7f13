// The monitor end to end: the real live service (`aunet run`, embedded broker, BUSI
// images through a random-weight model of the lite size) and the built page in
// real Chromium. Checked by pixels (picture, overlay, outline, gate switching)
// and by the page's safety state through what an operator would live through:
// a source that stops delivering (operator pause, then a finite source that
// plays out), a live service that dies (SIGKILL), its restart, a frozen source.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { startEmbeddedBroker } from '../../host/publish/broker.js';
import { UserStore } from '../../host/publish/user-store.js';
import { freePort } from '../host/publish/mosquitto.js';
import { ARTIFACTS, buildMonitor, counters, launchChromium, meanAbsDiff, measureCanvas, readCanvas, settle, startMonitorServer, startLiveService, waitState, type RunningService } from './harness.js';

const BUSI = '../shared/data/busi/benign';
const DEVICE = 'mon-e2e';
const OPERATOR = { username: 'operator', password: 'op-secret-4711' };

let dir: string;
let browser: Browser;
const services: RunningService[] = [];

before(async () => {
  buildMonitor();
  dir = mkdtempSync(join(tmpdir(), 'aunet-monitor-'));
  // the operator's account in a store of its own (aunet users add), named by the config
  await new UserStore(join(dir, 'users.json')).add(OPERATOR.username, OPERATOR.password);
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ broker: { userStore: join(dir, 'users.json') } }));
  // a capture card stuck on one picture: the same BUSI image 80 times (8 s at 10 fps)
  mkdirSync(join(dir, 'frozen'));
  for (let i = 0; i < 80; i++) copyFileSync(join(BUSI, 'benign (51).png'), join(dir, 'frozen', `f${String(i).padStart(3, '0')}.png`));
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  for (const r of services) await r.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const shot = (page: Page, name: string) => page.screenshot({ path: `${ARTIFACTS}/${name}.png` });

async function press(page: Page, key: string): Promise<void> {
  await page.keyboard.press(key);
  await settle(page);
}

test('monitor: picture, overlays, gates, sign-in, stale / offline / live / frozen', { timeout: 120_000 }, async () => {
  const a = await startLiveService(['--source', `folder:${BUSI}?fps=10`, '--model', 'random:F8x128', '--device', DEVICE, '--config', join(dir, 'config.json')]);
  services.push(a);
  const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(`${a.monitorUrl}?stale=500`);
  await waitState(page, 'live', 30_000);
  await page.waitForFunction(() => (window as any).aunetMonitor.counters.drawn >= 3, null, { timeout: 10_000 });
  assert.match(await page.locator('#notice').innerText(), /NOT FOR DIAGNOSTIC USE/);

  // --- the picture and its overlay, by pixels (default: gate 4 attention at 50 %, outline on)
  const withOverlay = await measureCanvas(page, '#main-canvas');
  assert.ok(withOverlay.nonBlack > 0.3, `frame drawn: ${JSON.stringify(withOverlay)}`);
  assert.ok(withOverlay.greyStd > 10, `the picture has structure: ${JSON.stringify(withOverlay)}`);
  assert.ok(withOverlay.coloured > 0.05, `heatmap overlay drawn: ${JSON.stringify(withOverlay)}`);
  await press(page, 'o'); // attention -> probability
  assert.equal(await page.evaluate(() => document.body.dataset.overlay), 'prob');
  await press(page, 'o'); // -> none
  await press(page, 'c'); // outline off: only the grey picture is left
  const bare = await measureCanvas(page, '#main-canvas');
  assert.ok(bare.nonBlack > 0.3 && bare.greyStd > 10, `grey picture without overlays: ${JSON.stringify(bare)}`);
  assert.ok(bare.coloured < 0.002, `no colour without overlays: ${JSON.stringify(bare)}`);
  await press(page, 'c'); // outline back on, still no heatmap
  const outlined = await measureCanvas(page, '#main-canvas');
  const c0 = await counters(page);
  if (c0.contours > 0) assert.ok(outlined.green > 0.001, `outline drawn for ${c0.contours} polygon(s): ${JSON.stringify(outlined)}`);
  else assert.ok(outlined.green < 0.0005, 'no outline for an empty mask');
  // the lesion-present decision in words beside the picture; "no lesion detected" never comes with an outline
  const decision = await page.locator('#decision').innerText();
  assert.match(decision, /^(lesion|no lesion detected)$/);
  if (decision !== 'lesion') assert.equal(c0.contours, 0);
  const prob = await measureCanvas(page, '#prob-canvas');
  assert.ok(prob.coloured > 0.2, `probability map drawn: ${JSON.stringify(prob)}`);
  await press(page, 'a');
  await shot(page, '01-live-1920');

  // --- anonymous viewers cannot command; a wrong password is refused by the broker
  assert.equal(await page.locator('#pause').isDisabled(), true);
  await page.click('#signin-open');
  await page.fill('#username', OPERATOR.username);
  await page.fill('#password', 'wrong-password');
  await page.click('#signin-form button[type=submit]');
  await page.waitForFunction(() => /refused/.test(document.getElementById('signin-error')!.textContent ?? ''), null, { timeout: 10_000 });
  await page.click('#signin-cancel');
  await waitState(page, 'live', 10_000);
  assert.equal(await page.evaluate(() => document.body.dataset.signedIn), 'false');
  assert.equal(await page.locator('#pause').isDisabled(), true);
  await page.click('#signin-open');
  await page.fill('#username', OPERATOR.username);
  await page.fill('#password', OPERATOR.password);
  await page.click('#signin-form button[type=submit]');
  await page.waitForFunction(() => document.body.dataset.signedIn === 'true', null, { timeout: 10_000 });
  await waitState(page, 'live', 10_000);

  // --- the operator pauses the stream: no more frames -> STALE within 1 s of the last one
  await page.click('#pause');
  await waitState(page, 'stale', 3000);
  await page.waitForFunction(() => /pause applied/.test(document.getElementById('cmd-result')!.textContent ?? ''), null, { timeout: 15_000 });
  const paused = await counters(page);
  const staleAt = paused.transitions.filter((t) => t.state === 'stale').at(-1)!.at;
  // the last frame before the banner (a frame in flight when the pause was applied may land after it)
  const lastBefore = (c: typeof paused, at: number) => c.arrivalTimes.filter((t) => t <= at).at(-1) ?? c.lastFrameAt!;
  const gap = staleAt - lastBefore(paused, staleAt);
  assert.ok(gap <= 1000, `stale ${gap.toFixed(0)} ms after the last frame (limit 1000)`);
  assert.ok(gap >= 500, `not stale before the 500 ms limit (${gap.toFixed(0)} ms)`);
  assert.equal(await page.locator('#banner').isVisible(), true);
  assert.match(await page.locator('#banner').innerText(), /STALE/);
  await page.waitForFunction(() => /paused by an operator/.test(document.getElementById('banner-reason')!.textContent ?? ''), null, { timeout: 15_000 });
  const dim = await page.evaluate(() => getComputedStyle(document.getElementById('main-canvas')!).filter);
  assert.match(dim, /brightness/, 'picture dimmed while stale');
  await shot(page, '02-stale-paused');

  // --- with the picture held still, each gate draws a different overlay
  const frameId = (await counters(page)).drawnFrameId;
  const gates: Awaited<ReturnType<typeof readCanvas>>[] = [];
  for (const k of ['1', '2', '3', '4']) {
    await press(page, k);
    assert.equal(await page.evaluate(() => document.body.dataset.gate), k);
    gates.push(await readCanvas(page, '#main-canvas'));
  }
  assert.equal((await counters(page)).drawnFrameId, frameId, 'same frame while paused');
  for (let i = 0; i < 3; i++) {
    const d = meanAbsDiff(gates[i], gates[i + 1]);
    assert.ok(d > 1, `gate ${i + 1} -> ${i + 2} changes the overlay (mean abs diff ${d.toFixed(2)})`);
  }
  await press(page, '0');
  assert.equal(await page.locator('#strip').isVisible(), true);
  assert.equal(await page.locator('#main-canvas').isVisible(), false);
  const strip = await Promise.all([1, 2, 3, 4].map((k) => measureCanvas(page, `#strip canvas[data-gate="${k}"]`)));
  for (const [i, s] of strip.entries()) assert.ok(s.nonBlack > 0.2 && s.coloured > 0.02, `strip gate ${i + 1} drawn: ${JSON.stringify(s)}`);
  await shot(page, '03-strip-paused');
  await press(page, '4');

  await page.click('#resume');
  await waitState(page, 'live', 15_000);

  // --- the operator changes the threshold: the device applies it to the next frames (0.30 -> 77/256)
  await page.$eval('#threshold-input', (e: HTMLInputElement) => {
    e.value = '30';
    e.dispatchEvent(new Event('input'));
  });
  await page.click('#threshold-send');
  await page.waitForFunction(() => /threshold applied/.test(document.getElementById('cmd-result')!.textContent ?? ''), null, { timeout: 15_000 });
  await page.waitForFunction(() => document.getElementById('threshold')!.textContent === '0.301', null, { timeout: 15_000 });

  // --- the live service dies (its embedded broker with it) -> OFFLINE
  a.child.kill('SIGKILL');
  await waitState(page, 'offline', 5000);
  assert.match(await page.locator('#banner').innerText(), /OFFLINE/);
  assert.equal(await page.evaluate(() => document.body.dataset.signedIn), 'false');
  await shot(page, '04-offline-killed');

  // --- restarted on the same ports with a source stuck on one picture -> LIVE, then FROZEN
  const b = await startLiveService(['--source', `folder:${join(dir, 'frozen')}?fps=10`, '--model', 'random:F8x128', '--device', DEVICE, '--config', join(dir, 'config.json')], {
    port: a.port,
    httpPort: a.httpPort,
  });
  services.push(b);
  await waitState(page, 'live', 20_000);
  await page.waitForFunction(() => document.body.dataset.frozen === 'true', null, { timeout: 5000, polling: 50 });
  assert.equal(await page.locator('#frozen-banner').isVisible(), true);
  await shot(page, '05-frozen');

  // --- the finite source plays out: no more frames -> STALE within 1 s, device says source-ended
  await waitState(page, 'stale', 15_000);
  const ended = await counters(page);
  const endedAt = ended.transitions.at(-1)!.at;
  const gap2 = endedAt - lastBefore(ended, endedAt);
  assert.ok(gap2 <= 1000 && gap2 >= 500, `stale ${gap2.toFixed(0)} ms after the last frame`);
  // the device's own account of why (its status), in words: not a safety bound, so waited for generously
  await page.waitForFunction(() => /played to its end/.test(document.getElementById('banner-reason')!.textContent ?? ''), null, { timeout: 30_000 });
  assert.equal(await page.evaluate(() => document.body.dataset.frozen), 'false', 'FROZEN is not shown over STALE');
  await shot(page, '06-stale-source-ended');

  // --- a laptop screen: banner, picture and the key list all on screen
  await page.setViewportSize({ width: 1366, height: 768 });
  await settle(page);
  for (const sel of ['#banner', '#main-canvas', '#keys', '#notice']) {
    const box = await page.locator(sel).boundingBox();
    assert.ok(box && box.y >= 0 && box.y + Math.min(box.height, 40) <= 768 && box.width > 100, `${sel} visible on 1366x768: ${JSON.stringify(box)}`);
  }
  await shot(page, '07-laptop-1366');

  const final = await counters(page);
  assert.equal(final.decodeErrors, 0);
  assert.ok(final.drawn <= final.received && final.drawn > 10, `drawn ${final.drawn} of ${final.received}`);
  assert.deepEqual(pageErrors, []);
  await page.close();
  await b.stop();
});

test('monitor: Last Will through an external broker -> OFFLINE while the broker stays up; restart -> LIVE', { timeout: 90_000 }, async () => {
  // a broker that outlives the live service (aedes, as a separate broker would be), the page served by `aunet monitor`
  // the page comes from another origin than the broker's WebSocket: the broker lists it (broker.allowedOrigins)
  const monitorPort = await freePort();
  const broker = await startEmbeddedBroker({ port: 0, httpPort: 0, allowedOrigins: [`http://127.0.0.1:${monitorPort}`] });
  const monitor = await startMonitorServer(broker.wsUrl, 'mon-will', monitorPort);
  writeFileSync(join(dir, 'service-password'), broker.serviceUser.password);
  const args = ['--broker', broker.url, '--username', broker.serviceUser.username, '--password-file', join(dir, 'service-password'), '--source', `folder:${BUSI}?fps=10`, '--model', 'random:F4x64', '--device', 'mon-will'];
  const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
  try {
    const a = await startLiveService(args, 'external');
    services.push(a);
    await page.goto(monitor.url);
    await waitState(page, 'live', 30_000);
    a.child.kill('SIGKILL');
    await waitState(page, 'offline', 5000);
    assert.match(await page.locator('#banner-reason').innerText(), /not reachable \(its connection was lost\)/);
    assert.match(await page.locator('#device-state').innerText(), /^not reachable/);
    await shot(page, '08-offline-last-will');
    const b = await startLiveService(args, 'external');
    services.push(b);
    await waitState(page, 'live', 30_000);
    await b.stop();
    await waitState(page, 'offline', 5000);
    assert.match(await page.locator('#banner-reason').innerText(), /the box was stopped/);
  } finally {
    await page.close();
    await monitor.stop();
    await broker.close();
  }
});

test('first view on the shipped model: the automatic gate shows where the model looks, not the flat gate; an operator\'s choice is remembered', { timeout: 120_000 }, async () => {
  // the shipped model (no --model), two frames a second: its first view as a new operator gets it
  const svc = await startLiveService(['--source', `folder:${BUSI}?fps=2`, '--device', 'first-view', '--engine', 'direct']);
  services.push(svc);
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 } }); // no remembered view
  const page = await context.newPage();
  try {
    await page.goto(svc.monitorUrl);
    await waitState(page, 'live', 60_000);
    await page.waitForFunction(() => (window as any).aunetMonitor.counters.received >= 5, null, { timeout: 30_000 });
    await settle(page);
    const c = await counters(page);
    const contrast = c.gateContrast as number[];
    const flattest = contrast.indexOf(Math.min(...contrast)) + 1;
    const shown = Number(await page.evaluate(() => document.body.dataset.gate));
    assert.equal(shown, c.autoGate, 'the page shows the automatic choice');
    assert.equal(await page.evaluate(() => document.body.dataset.autoGate), 'true');
    assert.notEqual(shown, flattest, `not the flat gate ${flattest} (contrast per gate ${contrast.map((x) => x.toFixed(3)).join(', ')})`);
    assert.ok(contrast[shown - 1] >= 0.8 * Math.max(...contrast), 'a gate with contrast');
    assert.match(await page.locator('#legend').innerText(), new RegExp(`Where the model looks, attention gate ${shown} \\(chosen for this model`));
    await page.keyboard.press('1'); // pause-free comparison: one frame is on screen for 500 ms at 2 fps
    await page.keyboard.press(String(shown));
    await settle(page);
    const chosenPx = await readCanvas(page, '#main-canvas');
    await page.keyboard.press(String(flattest));
    await settle(page);
    const flatPx = await readCanvas(page, '#main-canvas');
    // the heatmap's spread over the picture: red minus blue varies with the heat, not with the grey picture
    const spread = (p: Awaited<ReturnType<typeof readCanvas>>) => {
      const v: number[] = [];
      for (let i = 0; i < p.data.length; i += 4) if (p.data[i] + p.data[i + 1] + p.data[i + 2] > 24) v.push(p.data[i] - p.data[i + 2]);
      const m = v.reduce((a, x) => a + x, 0) / v.length;
      return Math.sqrt(v.reduce((a, x) => a + (x - m) ** 2, 0) / v.length);
    };
    assert.ok(spread(chosenPx) > 1.5 * spread(flatPx), `the chosen gate's heatmap varies over the picture (${spread(chosenPx).toFixed(1)}) far more than the flat gate's (${spread(flatPx).toFixed(1)})`);
    await page.keyboard.press('g');
    await settle(page);
    await page.screenshot({ path: `${ARTIFACTS}/09-first-view-shipped-model.png` });
    // an operator's choice is kept by this browser across a reload
    await page.keyboard.press('2');
    await page.reload();
    await waitState(page, 'live', 30_000);
    assert.equal(await page.evaluate(() => document.body.dataset.gate), '2');
    assert.equal(await page.evaluate(() => document.body.dataset.autoGate), 'false');
    await page.keyboard.press('g');
    assert.equal(await page.evaluate(() => document.body.dataset.autoGate), 'true');
  } finally {
    await context.close();
    await svc.stop();
  }
});
