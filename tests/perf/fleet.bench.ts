// How many boxes one broker and one monitor page carry (docs/fleet.md,
// docs/monitor.md "Measured figures"). Prints figures; not part of npm test.
//
// A real `aunet run` box (random-weight lite-sized model F8 128x128, phantom)
// publishes to a real Mosquitto; `aunet fleet record` keeps 20 of its frame
// messages. Then, for each N: a fresh Mosquitto (no anonymous access, the ACL
// of the fleet test), `aunet fleet simulate --devices N --fps R` replaying the
// recording as N boxes, `aunet monitor --broker mqtt://` (the page's MQTT
// carried over the monitor's own WebSocket) and real Chromium on the fleet
// view. Measured over --seconds once all N tiles are live:
//   broker   messages/s and MB/s seen by one subscriber of aunet/# (what the
//            broker accepts from the boxes; every subscriber of all of it
//            gets the same again)
//   boxes    the simulator's own report: frames, thumbnails, stats sent per
//            second, and frames dropped (socket backed up) or late
//   page     the interval between animation frames (mean, p95, max, frames
//            over 50 ms) and the fleet view's own work per animation frame
// Everything runs on this one machine (broker, N simulated boxes, the
// monitor's bridge, Chromium), so the figures are upper bounds of what each
// part costs alone.
//
// N = 0 is the page on an empty broker: what this machine's load alone does to its frames.
//
// Run: node --import tsx tests/perf/fleet.bench.ts [--devices 0,10,50,200] [--seconds 15] [--fps 2]
import os from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import type { Page } from 'playwright-core';
import { buildMonitor, launchChromium } from '../monitor/harness.js';
import { DEFAULT_ACL, startMosquitto, type Mosquitto } from '../host/publish/mosquitto.js';
import { sleep, startAunet, type AunetChild } from '../support/aunet-cli.js';

const argv = process.argv.slice(2);
const arg = (name: string, def: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : def);
const counts = arg('--devices', '0,10,50,200').split(',').map(Number);
const seconds = Number(arg('--seconds', '15'));
const fps = Number(arg('--fps', '2'));
if (counts.some((n) => !Number.isInteger(n) || n < 0) || !(seconds > 0) || !(fps >= 0)) throw new Error('usage: fleet.bench.ts [--devices 0,10,50,200] [--seconds 15] [--fps 2]');

const USERS = { 'aunet-service': 'svc-pw-7', operator: 'op-pw-8', viewer: 'view-pw-9' };
const ACL = [...DEFAULT_ACL, 'user viewer', 'topic read aunet/#', ''];
const SERVICE = ['--username', 'aunet-service', '--password', USERS['aunet-service']];
const VIEWER_ENV = { AUNET_MONITOR_USERNAME: 'viewer', AUNET_MONITOR_PASSWORD: USERS.viewer };

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
console.log(
  `fleet.bench: ${cpu}, ${os.cpus().length} cores, Node ${process.version}, Mosquitto (TCP, ACL), Chromium headless (--disable-gpu) 1920x1080, ` +
    `${fps} frames/s per box, ${seconds} s per N, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}, ${new Date().toISOString()}`,
);
buildMonitor();
const dir = mkdtempSync(join(os.tmpdir(), 'aunet-fleet-bench-'));
const recording = join(dir, 'box.aumsg');
const children: AunetChild[] = [];
const start = (args: string[], env: Record<string, string> = {}) => {
  const c = startAunet(args, { env });
  children.push(c);
  return c;
};

// ---- a recording of a real box's frame messages
{
  const mosq = await startMosquitto(USERS, { allowAnonymous: false, acl: ACL });
  const box = start(['run', '--broker', mosq.url, ...SERVICE, '--model', 'random:F8x128', '--source', 'phantom:?fps=5&frames=0', '--device', 'rec-1', '--log-level', 'warn'], { AUNET_THREADS: '1' });
  await box.waitFor(/Ctrl-C to stop/, 120_000);
  const rec = start(['fleet', 'record', '--broker', mosq.url, ...SERVICE, '--device', 'rec-1', '--frames', '20', '--out', recording]);
  if ((await rec.exit) !== 0) throw new Error(`aunet fleet record failed:\n${rec.err()}`);
  console.log(`   recording: ${rec.out().trim()}`);
  await box.stop();
  await mosq.stop();
}

const browser = await launchChromium();

interface PageFrames {
  n: number;
  mean: number;
  p95: number;
  max: number;
  over50: number;
}

/** Start recording the page's animation-frame intervals (a string: tsx would wrap a named function in a helper the page lacks). */
function recordFrames(page: Page): Promise<void> {
  return page.evaluate(`(() => {
    window.benchIntervals = [];
    let last = performance.now();
    const tick = (t) => { window.benchIntervals.push(t - last); last = t; requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
  })()`);
}

function pageFrames(page: Page): Promise<PageFrames> {
  return page.evaluate(() => {
    const d = [...(window as unknown as { benchIntervals: number[] }).benchIntervals].slice(1).sort((a, b) => a - b);
    return { n: d.length, mean: d.reduce((s, x) => s + x, 0) / Math.max(1, d.length), p95: d[Math.floor(d.length * 0.95)] ?? NaN, max: d.at(-1) ?? NaN, over50: d.filter((x) => x > 50).length };
  });
}

interface FleetWork {
  tiles: number;
  thumbsDrawn: number;
  workMsTotal: number;
  workMsMax: number;
  workFrames: number;
}
const fleetWork = (page: Page) => page.evaluate(() => (window as unknown as { aunetMonitor: { fleet: FleetWork } }).aunetMonitor.fleet);

/** One subscriber of everything: messages and bytes the broker takes in. */
async function countBroker(mosq: Mosquitto): Promise<{ n: number; bytes: number; close(): Promise<void> }> {
  const c = await mqtt.connectAsync(mosq.url, { username: 'aunet-service', password: USERS['aunet-service'] });
  const r = { n: 0, bytes: 0, close: () => c.endAsync() };
  c.on('message', (_t, p) => {
    r.n++;
    r.bytes += p.length;
  });
  await c.subscribeAsync('aunet/#', { qos: 0 });
  return r;
}

/** The simulator's 5-second reports: "frames 20.0/s  thumbs 10.0/s  stats 10.0/s  dropped 0.0/s  late 0.0/s". */
function simReports(sim: AunetChild): Record<string, number>[] {
  return sim
    .out()
    .split('\n')
    .filter((l) => l.startsWith('frames '))
    .map((l) => Object.fromEntries([...l.matchAll(/(\w+) ([\d.]+)\/s/g)].map((m) => [m[1], Number(m[2])])));
}

function meanReport(rs: Record<string, number>[]): string {
  if (!rs.length) return '(no report in the window)';
  return Object.keys(rs[0])
    .map((k) => `${k} ${(rs.reduce((s, r) => s + r[k], 0) / rs.length).toFixed(1)}`)
    .join('  ');
}

for (const n of counts) {
  const mosq = await startMosquitto(USERS, { allowAnonymous: false, acl: ACL });
  const sim = n ? start(['fleet', 'simulate', '--broker', mosq.url, ...SERVICE, '--messages', recording, '--devices', String(n), '--fps', String(fps), '--report', '5']) : null;
  let page: Page | null = null;
  try {
    await sim?.waitFor(/Simulating \d+ boxes/, 120_000);
    const monitor = start(['monitor', '--broker', mosq.url, '--port', '0'], VIEWER_ENV);
    const url = (await monitor.waitFor(/Monitor: (http:\/\/127\.0\.0\.1:\d+\/)/, 30_000))[1];
    const broker = await countBroker(mosq);
    page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
    await page.goto(`${url}#/fleet`);
    const liveStart = Date.now();
    await page.waitForFunction((want) => document.querySelectorAll('#tiles [data-state="live"]').length >= want, n, { timeout: 180_000, polling: 250 });
    const allLiveS = (Date.now() - liveStart) / 1000;
    await sleep(3000);
    await recordFrames(page);
    const w0 = await fleetWork(page);
    const b0 = { n: broker.n, bytes: broker.bytes };
    const reportsBefore = sim ? simReports(sim).length : 0;
    const t0 = performance.now();
    await sleep(seconds * 1000);
    const secs = (performance.now() - t0) / 1000;
    const b1 = { n: broker.n, bytes: broker.bytes };
    const w1 = await fleetWork(page);
    const f = await pageFrames(page);
    const live = await page.evaluate(() => document.querySelectorAll('#tiles [data-state="live"]').length);
    const simLine = sim ? meanReport(simReports(sim).slice(reportsBefore)) : '(none: no boxes)';
    const wf = w1.workFrames - w0.workFrames;
    console.log(
      `N=${String(n).padStart(4)}  live tiles ${live}/${n} (all live after ${allLiveS.toFixed(1)} s)  ` +
        `broker ${((b1.n - b0.n) / secs).toFixed(0)} msg/s, ${((b1.bytes - b0.bytes) / secs / 1e6).toFixed(2)} MB/s  ` +
        `page frame ${f.mean.toFixed(1)} ms mean / ${f.p95.toFixed(1)} p95 / ${f.max.toFixed(0)} max, ${f.over50} of ${f.n} over 50 ms  ` +
        `fleet view work ${wf ? ((w1.workMsTotal - w0.workMsTotal) / wf).toFixed(2) : '-'} ms per frame with work (${wf}), ${w1.workMsMax.toFixed(1)} max, ` +
        `thumbnails drawn ${((w1.thumbsDrawn - w0.thumbsDrawn) / secs).toFixed(0)}/s\n` +
        `        boxes (simulator's reports over the same time, per second): ${simLine}`,
    );
    await broker.close();
    await monitor.stop();
  } finally {
    await page?.close();
    await sim?.stop();
    await mosq.stop();
  }
}
console.log(`   load after: ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}, ${new Date().toISOString()}`);
await browser.close();
for (const c of children) await c.stop();
rmSync(dir, { recursive: true, force: true });
