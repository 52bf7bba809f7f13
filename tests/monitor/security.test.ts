// The monitor page and the box's HTTP/WebSocket port as a web page in the
// operator's browser would attack them, in real Chromium against a real
// `aunet run`: a page of another origin cannot open the broker's WebSocket (so
// it reads no frames and guesses no passwords), cannot kill the service with a
// malformed URL, cannot frame the monitor; a link cannot move the monitor to
// another broker; the page shows its broker and says when no operator exists.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { ARTIFACTS, buildMonitor, launchChromium, startLiveService, waitState, type RunningService } from './harness.js';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let dir: string;
let browser: Browser;
let service: RunningService;
let attacker: Server;
let attackerUrl: string;

before(async () => {
  buildMonitor();
  dir = mkdtempSync(join(tmpdir(), 'aunet-monitor-sec-'));
  // an operator store that exists but holds nobody: operators were removed on purpose
  writeFileSync(join(dir, 'users.json'), JSON.stringify({ format: 'aunet-users', version: 1, users: [] }));
  service = await startLiveService(['--source', 'phantom:?size=128x128&fps=10&frames=0', '--model', 'random:F4x64', '--device', 'sec', '--user-store', join(dir, 'users.json')]);
  browser = await launchChromium();
  // the attacker's site: another origin (another port) on the same machine
  const target = service.monitorUrl;
  const ws = target.replace(/^http/, 'ws') + 'mqtt';
  const html = `<!doctype html><body>
<img src="${target}%ff"><img src="${target}..%c0%af..">
<iframe id="f" src="${target}"></iframe>
<script>
window.results = {};
const s = new WebSocket(${JSON.stringify(ws)}, 'mqtt');
s.onopen = () => (window.results.ws = 'open');
s.onerror = () => (window.results.ws = 'refused');
fetch(${JSON.stringify(`${target}config.json`)}).then(() => (window.results.fetch = 'read'), () => (window.results.fetch = 'blocked'));
</script></body>`;
  attacker = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(html));
  await new Promise<void>((r) => attacker.listen(0, '127.0.0.1', r));
  attackerUrl = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}/`;
});

after(async () => {
  await browser?.close();
  await service?.stop();
  attacker?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test("another origin's page: no WebSocket, no readable config, no framing, and the service survives its malformed URLs", { timeout: 60_000 }, async () => {
  const page = await browser.newPage();
  await page.goto(attackerUrl);
  await page.waitForFunction(() => (window as unknown as { results: Record<string, string> }).results.ws && (window as unknown as { results: Record<string, string> }).results.fetch, null, { timeout: 15_000 });
  const results = await page.evaluate(() => (window as unknown as { results: Record<string, string> }).results);
  assert.deepEqual(results, { ws: 'refused', fetch: 'blocked' });
  // frame-ancestors 'none' / X-Frame-Options DENY: the monitor is not rendered inside the attacker's page
  const frame = page.frames().find((f) => f !== page.mainFrame());
  const framed = await frame?.evaluate(() => document.getElementById('notice') !== null).catch(() => false);
  assert.equal(framed ?? false, false, 'the monitor rendered inside another site');
  await page.close();
  assert.equal(service.child.exitCode, null, 'the live service still runs');
  assert.equal((await fetch(`${service.monitorUrl}config.json`)).status, 200);
  assert.match(service.err(), /WebSocket refused/);
});

test('the monitor: pinned to its broker, shows it, says no operator is configured, works under its CSP', { timeout: 60_000 }, async () => {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await page.goto(`${service.monitorUrl}?broker=ws://127.0.0.1:1/mqtt`);
  await waitState(page, 'live', 30_000);
  const port = new URL(service.monitorUrl).port;
  assert.equal(await page.locator('#broker-host').innerText(), `127.0.0.1:${port}`);
  assert.match(await page.locator('#warnings').innerText(), /broker=ws:\/\/127\.0\.0\.1:1\/mqtt: not a broker this page may use/);
  assert.match(await page.locator('#operator-hint').innerText(), /No operator account is configured/);
  await page.click('#signin-open');
  await page.fill('#username', 'operator');
  await page.fill('#password', 'change-me');
  await page.click('#signin-form button[type=submit]');
  await page.waitForFunction(() => /No operator account is configured/.test(document.getElementById('signin-error')!.textContent ?? ''), null, { timeout: 15_000 });
  await page.screenshot({ path: `${ARTIFACTS}/security-no-operator.png` });
  assert.deepEqual(errors.filter((e) => !/WebSocket|ERR_CONNECTION|status of 4\d\d/.test(e)), [], 'no CSP violations or script errors');
  await page.close();
});
