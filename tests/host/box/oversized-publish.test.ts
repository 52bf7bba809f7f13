// Eight concurrent anonymous 250 MiB publishes against `aunet run` (embedded
// broker, a real process): each is cut after its fixed header by the packet-size
// gate, the live service's RSS stays within 24 MB of idle, and it keeps serving.
// (Before the gate aedes buffered each body: 191 MB -> 2.13 GB.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import mqtt from 'mqtt';
import { setTimeout as sleep } from 'node:timers/promises';
import { startAunet } from '../../support/aunet-cli.js';
import { oversizedPublish } from '../publish/raw-mqtt.js';

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

test('8 concurrent 250 MiB anonymous publishes: cut at the header, RSS within 24 MB of idle', { timeout: 120_000 }, async () => {
  const run = startAunet(['run', '--model', 'random:F4x64', '--source', 'phantom:?size=96x96&fps=10&frames=0', '--port', '0', '--http-port', '0', '--device', 'rss', '--log-level', 'warn']);
  try {
    const m = await run.waitFor(/MQTT: mqtt:\/\/127\.0\.0\.1:(\d+)/, 60_000);
    const port = Number(m[1]);
    const pid = run.child.pid!;
    await sleep(3000); // warm-up: JIT, first frames, broker buffers
    const idleSamples: number[] = [];
    for (let i = 0; i < 20; i++) {
      idleSamples.push(rssBytes(pid));
      await sleep(50);
    }
    const idle = Math.max(...idleSamples);
    let peak = idle;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, rssBytes(pid));
        await sleep(20);
      }
    })();
    const results = await Promise.all(Array.from({ length: 8 }, () => oversizedPublish(port, 250 * 1024 * 1024, 250 * 1024 * 1024, undefined, 'aunet/rss/frame')));
    await sleep(500);
    sampling = false;
    await sampler;
    const mb = (n: number) => (n / 2 ** 20).toFixed(1);
    process.stdout.write(`RSS idle ${mb(idle)} MiB, peak under 8 x 250 MiB publishes ${mb(peak)} MiB (+${mb(peak - idle)}); written before the cut: ${results.map((r) => mb(r.written)).join(', ')} MiB\n`);
    for (const r of results) assert.ok(r.closed, 'each attacking connection was closed');
    assert.ok(peak - idle < 24 * 2 ** 20, `RSS grew ${mb(peak - idle)} MiB (idle ${mb(idle)}, peak ${mb(peak)})`);
    assert.match(run.err(), /packet over the limit/);
    // still serving: a viewer gets frames
    const sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0 });
    let frames = 0;
    sub.on('message', () => frames++);
    await sub.subscribeAsync('aunet/rss/frame');
    for (let i = 0; i < 100 && frames < 3; i++) await sleep(50);
    await sub.endAsync(true);
    assert.ok(frames >= 3, 'frames after the attack');
  } finally {
    await run.stop();
  }
});
