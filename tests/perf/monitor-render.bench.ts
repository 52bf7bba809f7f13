// Does the monitor keep up with the `lite` model's output at 30 fps? Frames drawn
// vs received in real Chromium (1920x1080), composing time per frame, and the
// capture-to-display latency the page reports. Prints figures; not part of npm test.
//
//  A. live: `aunet run` (embedded broker, speckle phantom at 30 fps, random-weight
//     lite model F8 128x128, all four gates) -> page. Includes the live service's own
//     speed on this machine, and records the frame messages for B.
//  B. replay: the recorded messages re-stamped and published by this process at an
//     exact rate (30 fps, then 60 fps) through the same embedded broker code, so the
//     figure is about the monitor, not about inference; gate 4 and the 4-gate strip.
//
// Run: node --import tsx tests/perf/monitor-render.bench.ts [--seconds 10]
import os from 'node:os';
import mqtt from 'mqtt';
import type { Page } from 'playwright-core';
import { startEmbeddedBroker } from '../../host/publish/broker.js';
import { decodeFrameMessage, encodeFrameMessage } from '../../contracts/frame-message.js';
import { topicsFor } from '../../contracts/topics.js';
import { buildMonitor, counters, launchChromium, startLiveService, waitState, type PageCounters } from '../monitor/harness.js';

const argv = process.argv.slice(2);
const seconds = Number(argv[argv.indexOf('--seconds') + 1] || 10) || 10;
const DEVICE = 'bench-0';

console.log(
  `monitor-render.bench: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, Node ${process.version}, ` +
    `Chromium headless (software rendering, --disable-gpu), 1920x1080, ${seconds} s per phase, load ${os.loadavg()[0].toFixed(1)}, ${new Date().toISOString()}`,
);
buildMonitor();
const browser = await launchChromium();

function row(name: string, a: PageCounters, b: PageCounters, secs: number, sent?: number): void {
  const rec = b.received - a.received;
  const drawn = b.drawn - a.drawn;
  const drawMs = drawn ? (b.drawMsTotal - a.drawMsTotal) / drawn : 0;
  console.log(
    `${name.padEnd(34)} ${sent !== undefined ? `sent ${String(sent).padStart(4)}  ` : '           '}` +
      `received ${String(rec).padStart(4)} (${(rec / secs).toFixed(1)} fps)  drawn ${String(drawn).padStart(4)} (${rec ? ((100 * drawn) / rec).toFixed(1) : '-'} %)  ` +
      `compose ${drawMs.toFixed(2)} ms mean / ${b.drawMsMax.toFixed(1)} max  rAF ${((b.animationFrames - a.animationFrames) / secs).toFixed(0)}/s  ` +
      `latency p50(30) ${b.latencyMs?.toFixed(1) ?? '-'} ms  arrived < 1/60 s after the previous: ${b.closeArrivals - a.closeArrivals}`,
  );
}

async function measure(page: Page, secs: number): Promise<[PageCounters, PageCounters]> {
  const a = await counters(page);
  await new Promise((r) => setTimeout(r, secs * 1000));
  return [a, await counters(page)];
}

// ---- A. live service
const recorded: Uint8Array[] = [];
{
  const rt = await startLiveService(['--source', 'phantom:?fps=30&frames=0', '--model', 'random:F8x128', '--device', DEVICE]);
  const sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${rt.port}`);
  sub.on('message', (_t, p) => recorded.length < 300 && recorded.push(new Uint8Array(p)));
  await sub.subscribeAsync(topicsFor(DEVICE).frame);
  const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
  await page.goto(rt.monitorUrl);
  await waitState(page, 'live', 30_000);
  await new Promise((r) => setTimeout(r, 3000)); // past the live service's warm-up
  const [a, b] = await measure(page, seconds);
  row('A live service, phantom 30 fps, gate 4', a, b, seconds);
  await page.close();
  await sub.endAsync();
  await rt.stop();
}
if (recorded.length < 30) throw new Error(`recorded only ${recorded.length} frame messages from the live service`);
const frames = recorded.map((m) => decodeFrameMessage(m));
const devicePart = frames.map((f) => f.publishTime - f.captureTime).sort((x, y) => x - y)[frames.length >> 1];
let bunched = 0;
for (let i = 1; i < frames.length; i++) if (frames[i].publishTime - frames[i - 1].publishTime < 1000 / 60) bunched++;
console.log(
  `   (recorded ${frames.length} messages; capture -> publish on the device: median ${devicePart.toFixed(1)} ms, kept in B's latency; ` +
    `${((100 * bunched) / (frames.length - 1)).toFixed(0)} % published less than one 60 Hz refresh after the previous one, so at most one of each such pair can be shown)`,
);

// ---- B. exact-rate replay through the embedded broker
const broker = await startEmbeddedBroker({ port: 0, httpPort: 0, device: DEVICE });
const pub = await mqtt.connectAsync(broker.url, { username: broker.serviceUser.username, password: broker.serviceUser.password });
const topics = topicsFor(DEVICE);
await pub.publishAsync(topics.status, JSON.stringify({ state: 'live', online: true, device: DEVICE, since: Date.now(), ts: Date.now() }), { qos: 1, retain: true });

/** Publish re-stamped frames at `fps` for `secs`, on a drift-free schedule. */
async function replay(fps: number, secs: number): Promise<number> {
  const start = performance.now();
  const n = Math.round(fps * secs);
  for (let i = 0; i < n; i++) {
    const due = start + (i * 1000) / fps;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const f = frames[i % frames.length];
    const now = Date.now();
    const bytes = encodeFrameMessage({ ...f, frameId: i + 1e6 * fps, captureTime: now - (f.publishTime - f.captureTime), publishTime: now });
    pub.publish(topics.frame, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { qos: 0 });
  }
  return n;
}

for (const [fps, key, name] of [
  [30, '4', 'B replay 30 fps, gate 4'],
  [30, '0', 'B replay 30 fps, 4-gate strip'],
  [60, '4', 'B replay 60 fps, gate 4'],
] as const) {
  const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
  await page.goto(broker.monitorUrl);
  await replay(fps, 1); // connect and warm up
  await new Promise((r) => setTimeout(r, 300));
  await page.keyboard.press(key);
  const a = await counters(page);
  const sent = await replay(fps, seconds);
  await new Promise((r) => setTimeout(r, 200));
  const b = await counters(page);
  row(name, a, b, seconds, sent);
  await page.close();
}
await pub.endAsync();
await broker.close();
await browser.close();
