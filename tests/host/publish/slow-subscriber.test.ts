// A subscriber that stops reading (a frozen monitor tab, a congested link) must
// not make the embedded broker, which lives in the live service's process, buffer
// frames without bound, nor slow the other subscribers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import mqtt from 'mqtt';
import { startEmbeddedBroker } from '../../../host/publish/broker.js';
import { Publisher } from '../../../host/publish/client.js';
import { setTimeout as sleep } from 'node:timers/promises';

test('a stalled subscriber misses frames; the others get them all; buffers stay bounded', { timeout: 60_000 }, async () => {
  const maxClientBufferBytes = 512 * 1024;
  const b = await startEmbeddedBroker({ port: 0, httpPort: 0, maxClientBufferBytes });
  const pub = new Publisher({ url: b.url, ...b.serviceUser });
  const slow = await mqtt.connectAsync(b.url, { reconnectPeriod: 0, keepalive: 0 });
  const fast = await mqtt.connectAsync(b.url, { reconnectPeriod: 0 });
  try {
    await pub.start(5000);
    await slow.subscribeAsync('aunet/s/frame');
    await fast.subscribeAsync('aunet/s/frame');
    (slow.stream as Socket).pause(); // stops reading: the kernel buffers fill, then the broker's
    let got = 0;
    fast.on('message', () => got++);
    const frame = new Uint8Array(60_000);
    const sent = 400; // 24 MB, far more than any socket buffer
    let peak = 0;
    for (let i = 0; i < sent; i++) {
      assert.ok(pub.publishVolatile('aunet/s/frame', frame), `frame ${i} refused by the publisher`);
      await sleep(2);
      for (const c of clientsOf(b.aedes)) peak = Math.max(peak, c.conn.writableLength ?? 0);
    }
    const deadline = Date.now() + 10_000;
    while (got < sent && Date.now() < deadline) await sleep(20);
    assert.equal(got, sent, 'the reading subscriber got every frame');
    assert.ok(b.skipped > 0, 'frames were skipped for the stalled subscriber');
    assert.ok(peak <= maxClientBufferBytes + 2 * 60_100, `peak unsent bytes for one client ${peak}`);
  } finally {
    slow.end(true);
    await fast.endAsync(true);
    await pub.close();
    await b.close();
  }
});

function clientsOf(aedes: unknown): { conn: { writableLength?: number } }[] {
  // aedes keeps connected clients by id
  return Object.values((aedes as { clients: Record<string, { conn: { writableLength?: number } }> }).clients);
}
