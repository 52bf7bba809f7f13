// The fleet view end to end, as a department runs it: boxes publishing to a
// real Mosquitto over TCP (which admits no anonymous client), `aunet monitor
// --broker mqtt://` serving the page and carrying its MQTT over its own
// WebSocket, real Chromium. First three real `aunet run` processes on one
// broker (SIGKILL one: its tile offline within 3 s, the others stay live;
// restart: live again); then the hospital topology: two site brokers bridged
// into a central one, simulated boxes on the sites, the monitor on the central
// broker showing every box and an operator's command reaching its site.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import type { Browser, Page } from 'playwright-core';
import { ARTIFACTS, buildMonitor, launchChromium, waitState } from './harness.js';
import { DEFAULT_ACL, startMosquitto, type Mosquitto } from '../host/publish/mosquitto.js';
import { startAunet, type AunetChild } from '../support/aunet-cli.js';

const USERS = { 'aunet-service': 'svc-pw-7', operator: 'op-pw-8', viewer: 'view-pw-9', central: 'central-pw-0' };
// viewers read; the central broker's bridge reads the site and writes commands into it
const ACL = [...DEFAULT_ACL, 'user viewer', 'topic read aunet/#', '', 'user central', 'topic read aunet/#', 'topic write aunet/+/cmd', ''];
const VIEWER_ENV = { AUNET_MONITOR_USERNAME: 'viewer', AUNET_MONITOR_PASSWORD: USERS.viewer };

let dir: string;
let browser: Browser;
const children: AunetChild[] = [];
const brokers: Mosquitto[] = [];

before(async () => {
  buildMonitor();
  dir = mkdtempSync(join(tmpdir(), 'aunet-fleet-'));
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  for (const c of children) await c.stop();
  for (const b of brokers) await b.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function start(args: string[], env: Record<string, string> = {}): AunetChild {
  const c = startAunet(args, { env });
  children.push(c);
  return c;
}

/** `aunet run` of a small box on an external broker: random 64 x 64 model, two frames a second, one kernel thread (two cores here). */
async function box(broker: Mosquitto, device: string): Promise<AunetChild> {
  const c = start(['run', '--broker', broker.url, '--username', 'aunet-service', '--model', 'random:F4x64', '--source', 'phantom:?fps=2&frames=0', '--device', device, '--log-level', 'warn'], { AUNET_THREADS: '1', AUNET_BROKER_PASSWORD: USERS['aunet-service'] });
  await c.waitFor(/Ctrl-C to stop/, 90_000);
  return c;
}

async function monitorOn(broker: Mosquitto): Promise<string> {
  const m = start(['monitor', '--broker', broker.url, '--port', '0'], VIEWER_ENV);
  return (await m.waitFor(/Monitor: (http:\/\/127\.0\.0\.1:\d+\/)/, 30_000))[1];
}

const tile = (id: string, state: string) => `#tiles [data-device="${id}"][data-state="${state}"]`;

async function tilesLive(page: Page, ids: string[], ms: number): Promise<void> {
  await page.waitForFunction((want) => want.every((id) => document.querySelector(`#tiles [data-device="${id}"]`)?.getAttribute('data-state') === 'live'), ids, { timeout: ms, polling: 100 });
}

/** Fraction of non-black pixels of each tile's thumbnail: a picture came through the thumb topic. */
function thumbnailsDrawn(page: Page, ids: string[]): Promise<number[]> {
  return page.evaluate((want) => want.map((id) => {
    const c = document.querySelector(`#tiles [data-device="${id}"] canvas`) as HTMLCanvasElement;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] + d[i + 1] + d[i + 2] > 24) n++;
    return n / (d.length / 4);
  }), ids);
}

test('fleet: three boxes on one Mosquitto; SIGKILL one -> its tile offline within 3 s, the others live; restart -> live', { timeout: 240_000 }, async () => {
  const mosq = await startMosquitto(USERS, { allowAnonymous: false, acl: ACL });
  brokers.push(mosq);
  const ids = ['box-1', 'box-2', 'box-3'];
  const boxes = await Promise.all(ids.map((id) => box(mosq, id)));
  const url = await monitorOn(mosq);
  const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(url);
  // the route is applied once the page has read its config.json (after the load event)
  await page.waitForFunction(() => (window as any).aunetMonitor !== undefined, null, { timeout: 15_000 });
  assert.equal(await page.evaluate(() => document.body.dataset.view), 'fleet', 'no device named: the page opens on the fleet view');
  await tilesLive(page, ids, 60_000);
  await page.waitForFunction(() => (window as any).aunetMonitor.fleet.thumbsDrawn >= 3, null, { timeout: 15_000 });
  await page.waitForTimeout(1500); // a thumbnail of each
  for (const [i, f] of (await thumbnailsDrawn(page, ids)).entries()) assert.ok(f > 0.3, `${ids[i]}: live thumbnail drawn (${f.toFixed(2)} non-black)`);
  const text = await page.locator(tile('box-1', 'live')).innerText();
  assert.match(text, /LIVE[\s\S]*running[\s\S]*\d(\.\d)? fps[\s\S]*ms on the box[\s\S]*software 0\.1\.0[\s\S]*model random-F4-64x64/);
  assert.match(await page.locator('#fleet-summary').innerText(), /^3 devices: 3 live$/);
  await page.screenshot({ path: `${ARTIFACTS}/20-fleet-three-live.png` });

  const killedAt = Date.now();
  boxes[1].child.kill('SIGKILL');
  await page.waitForSelector(tile('box-2', 'offline'), { timeout: 3000 });
  const offlineMs = Date.now() - killedAt;
  assert.equal(await page.locator(tile('box-1', 'live')).count(), 1, 'box-1 stays live');
  assert.equal(await page.locator(tile('box-3', 'live')).count(), 1, 'box-3 stays live');
  await page.waitForTimeout(2000);
  assert.equal(await page.locator('#tiles [data-state="live"]').count(), 2, 'and stays so');
  const offline = await page.locator(tile('box-2', 'offline')).innerText();
  assert.match(offline, /OFFLINE[\s\S]*connection was lost[\s\S]*last seen \d\d:\d\d:\d\d/);
  assert.match(await page.title(), /\[1 OFFLINE\]/);
  await page.screenshot({ path: `${ARTIFACTS}/21-fleet-one-killed.png` });
  process.stdout.write(`# box-2 tile offline ${offlineMs} ms after SIGKILL\n`);

  await box(mosq, 'box-2');
  await tilesLive(page, ids, 60_000);

  // a click opens the device's full view
  await page.click('#tiles [data-device="box-1"]');
  await page.waitForFunction(() => location.hash === '#/device/box-1');
  await waitState(page, 'live', 15_000);
  assert.equal(await page.locator('#device-name').innerText(), 'box-1');
  await page.screenshot({ path: `${ARTIFACTS}/22-fleet-device-view.png` });
  await page.goBack();
  await page.waitForFunction(() => document.body.dataset.view === 'fleet');

  // frame messages of a real box, for the site simulation below
  const rec = start(['fleet', 'record', '--broker', mosq.url, '--username', 'aunet-service', '--device', 'box-3', '--frames', '6', '--out', join(dir, 'box-3.aumsg')], { AUNET_BROKER_PASSWORD: USERS['aunet-service'] });
  assert.equal(await rec.exit, 0, rec.err());
  assert.deepEqual(pageErrors, []);
  await page.close();
});

test('fleet: two site brokers bridged into a central one; the monitor on the central broker shows every box, and commands reach their site', { timeout: 180_000 }, async () => {
  const siteA = await startMosquitto(USERS, { allowAnonymous: false, acl: ACL });
  const siteB = await startMosquitto(USERS, { allowAnonymous: false, acl: ACL });
  brokers.push(siteA, siteB);
  // the documented bridge (docs/fleet.md): devices' topics in, commands out
  const bridgeTo = (name: string, site: Mosquitto) => [
    `connection ${name}`,
    `address 127.0.0.1:${site.port}`,
    'remote_username central',
    `remote_password ${USERS.central}`,
    `remote_clientid central-${name}`,
    'bridge_protocol_version mqttv311',
    'cleansession true',
    'restart_timeout 1 5',
    'topic aunet/+/status in 1',
    'topic aunet/+/stats in 0',
    'topic aunet/+/thumb in 0',
    'topic aunet/+/frame in 0',
    'topic aunet/+/cmd/reply in 0',
    'topic aunet/+/cmd out 1',
  ];
  const central = await startMosquitto(USERS, { allowAnonymous: false, acl: ACL, extraConfig: [...bridgeTo('site-a', siteA), ...bridgeTo('site-b', siteB)] });
  brokers.push(central);
  const recording = join(dir, 'box-3.aumsg');
  const sim = (site: Mosquitto, prefix: string) =>
    start(['fleet', 'simulate', '--broker', site.url, '--username', 'aunet-service', '--messages', recording, '--devices', '2', '--prefix', prefix, '--fps', '1'], { AUNET_BROKER_PASSWORD: USERS['aunet-service'] });
  const simA = sim(siteA, 'site-a');
  const simB = sim(siteB, 'site-b');
  await simA.waitFor(/Simulating 2 boxes/, 30_000);
  await simB.waitFor(/Simulating 2 boxes/, 30_000);
  const url = await monitorOn(central);
  const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
  try {
    await page.goto(url);
    const ids = ['site-a-001', 'site-a-002', 'site-b-001', 'site-b-002'];
    await tilesLive(page, ids, 30_000);
    await page.waitForFunction(() => (window as any).aunetMonitor.fleet.thumbsDrawn >= 4, null, { timeout: 15_000 });
    await page.screenshot({ path: `${ARTIFACTS}/23-fleet-central-broker.png` });

    // an operator signed in on the central page commands a box at site B
    const watcher = await mqtt.connectAsync(siteB.url, { username: 'aunet-service', password: USERS['aunet-service'] });
    const cmd = new Promise<string>((r) => watcher.on('message', (_t, p) => r(p.toString())));
    await watcher.subscribeAsync('aunet/site-b-001/cmd');
    await page.click('#tiles [data-device="site-b-001"]');
    await page.click('#signin-open');
    await page.fill('#username', 'operator');
    await page.fill('#password', USERS.operator);
    await page.click('#signin-form button[type=submit]');
    await page.waitForFunction(() => document.body.dataset.signedIn === 'true', null, { timeout: 15_000 });
    await page.click('#pause');
    assert.match(await cmd, /"cmd":"pause"/);
    await watcher.endAsync();

    // a site's boxes vanish: their Wills cross the bridge
    await page.goto(`${url}#/fleet`);
    simA.child.kill('SIGKILL');
    await page.waitForSelector(tile('site-a-001', 'offline'), { timeout: 5000 });
    await page.waitForSelector(tile('site-a-002', 'offline'), { timeout: 5000 });
    assert.equal(await page.locator('#tiles [data-state="live"]').count(), 2, 'site B stays live');
  } finally {
    await page.close();
  }
});
