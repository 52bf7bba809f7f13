// Accessibility of the fleet and device views, checked by axe-core in real
// Chromium (no serious or critical finding; the full results are kept in
// test-artifacts/monitor/axe-*.json), and the rule that no state is told by
// colour alone: every tile and banner says its state in words.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../host/publish/broker.js';
import { ARTIFACTS, buildMonitor, launchChromium, waitState } from './harness.js';
import { SyntheticDevice, steady } from './synthetic-device.js';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

interface AxeResult {
  violations: { id: string; impact: string | null; help: string; nodes: { target: string[] }[] }[];
}

let broker: EmbeddedBroker;
let browser: Browser;
const devices: SyntheticDevice[] = [];

before(async () => {
  buildMonitor();
  broker = await startEmbeddedBroker({ port: 0, httpPort: 0 });
  browser = await launchChromium();
  // a fleet in three states: live (frames, stats, thumbnails), offline (its Will), no data (silent)
  for (const id of ['ward-live', 'ward-gone', 'ward-silent']) {
    const d = await SyntheticDevice.connect(broker.url, id, broker.serviceUser);
    await d.status();
    devices.push(d);
  }
  devices[1].vanish();
});

after(async () => {
  await browser?.close();
  for (const d of [devices[0], devices[2]]) await d?.close();
  await broker?.close();
});

async function axe(page: Page, name: string): Promise<void> {
  // injected as a script: the pages open with bypassCSP, since the monitor's CSP allows only its own scripts (docs/security.md)
  await page.addScriptTag({ path: AXE });
  const r = (await page.evaluate(() => (window as unknown as { axe: { run(): Promise<unknown> } }).axe.run())) as AxeResult;
  writeFileSync(`${ARTIFACTS}/axe-${name}.json`, JSON.stringify(r.violations, null, 1) + '\n');
  const bad = r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad.map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`), [], `${name}: axe findings`);
}

/** Keep the live device live while `act` runs. */
async function whileLive<T>(act: () => Promise<T>): Promise<T> {
  const d = devices[0];
  let on = true;
  const loop = (async () => {
    while (on) {
      d.stats(10);
      d.thumb();
      await d.play(steady(0, 500, 100));
    }
  })();
  try {
    return await act();
  } finally {
    on = false;
    await loop;
  }
}

test('accessibility: the fleet view, the device view live and stale: no serious or critical axe finding; states in words', { timeout: 90_000 }, async () => {
  await whileLive(async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, bypassCSP: true });
    try {
      await page.goto(`${broker.monitorUrl}#/fleet`);
      await page.waitForSelector('#tiles [data-device="ward-silent"][data-state="stale"]', { timeout: 15_000 });
      await page.waitForSelector('#tiles [data-device="ward-live"][data-state="live"]', { timeout: 5000 });
      await page.waitForSelector('#tiles [data-device="ward-gone"][data-state="offline"]', { timeout: 5000 });
      const words = await page.evaluate(() => Object.fromEntries([...document.querySelectorAll('#tiles a')].map((a) => [a.getAttribute('data-device'), (a as HTMLElement).innerText])));
      assert.match(words['ward-live']!, /running/);
      assert.match(words['ward-gone']!, /offline: its connection was lost/);
      assert.match(words['ward-silent']!, /no data for \d/);
      assert.deepEqual(await page.locator('#tiles .tile-state').allInnerTexts(), ['OFFLINE', 'LIVE', 'NO DATA'], 'each badge names its state');
      await axe(page, 'fleet');
      await page.screenshot({ path: `${ARTIFACTS}/30-axe-fleet.png` });

      await page.goto(`${broker.monitorUrl}#/device/ward-live`);
      await waitState(page, 'live', 15_000);
      await axe(page, 'device-live');
      await page.click('#signin-open');
      await axe(page, 'device-signin-dialog');
      await page.keyboard.press('Escape');
    } finally {
      await page.close();
    }
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, bypassCSP: true });
  try {
    await page.goto(`${broker.monitorUrl}#/device/ward-silent`);
    await waitState(page, 'stale', 15_000);
    assert.match(await page.locator('#banner').innerText(), /STALE[\s\S]*no picture received for/);
    assert.equal(await page.locator('#state-badge').innerText(), 'STALE');
    await axe(page, 'device-stale');
  } finally {
    await page.close();
  }
});
