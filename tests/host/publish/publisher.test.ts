// The live service's MQTT link on its own, against the embedded broker: nothing is
// queued while the broker is away, it comes back within the backoff cap,
// subscriptions return with it, and refused credentials fail fast.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../../host/publish/broker.js';
import { Publisher } from '../../../host/publish/client.js';
import { freePort } from './mosquitto.js';
import { memoryOperators } from '../../support/operators.js';
import { setTimeout as sleep } from 'node:timers/promises';

async function broker(port: number): Promise<EmbeddedBroker> {
  return startEmbeddedBroker({ port, httpPort: 0, operators: memoryOperators({ op: 'pw' }) });
}

test('broker away: frames dropped (no queue), reconnect within the cap, subscriptions restored', { timeout: 30_000 }, async () => {
  const port = await freePort();
  let b = await broker(port);
  // the live service's credentials change with each embedded broker; use an operator for the link itself
  const pub = new Publisher({ url: `mqtt://127.0.0.1:${port}`, username: 'op', password: 'pw', keepalive: 5 });
  const states: string[] = [];
  pub.on('state', (s) => states.push(s));
  let connects = 0;
  pub.on('connect', () => connects++);
  const got: string[] = [];
  pub.on('message', (_t, p) => got.push(p.toString()));
  try {
    await pub.start(5000);
    pub.subscribe('aunet/x/cmd');
    assert.ok(pub.publishVolatile('aunet/x/cmd', 'hello'));

    await b.close();
    await waitFor(() => pub.state === 'offline' || pub.state === 'connecting', 3000, 'the link to notice');
    for (let i = 0; i < 1000; i++) assert.equal(pub.publishVolatile('aunet/x/cmd', new Uint8Array(60_000)), false);
    assert.equal(await pub.publishReliable('aunet/x/status', '{}', true), false);
    assert.deepEqual(pub.pending, { queued: 0, inflight: 0, socketBytes: 0 }, 'nothing queued while offline');

    await sleep(1500); // several failed attempts: the backoff reaches its cap
    b = await broker(port);
    const back = Date.now();
    await waitFor(() => connects === 2, 3000, 'reconnect');
    const took = Date.now() - back;
    assert.ok(took < 1500, `reconnected ${took} ms after the broker came back`);
    assert.equal(pub.reconnects, 1);
    // the cmd subscription is back: an operator's message reaches us
    const op = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { username: 'op', password: 'pw', reconnectPeriod: 0 });
    await waitFor(async () => {
      await op.publishAsync('aunet/x/cmd', 'again');
      return got.includes('again');
    }, 3000, 'a message on the resubscribed topic');
    await op.endAsync();
    assert.ok(states.includes('offline') && states.at(-1) === 'connected', states.join(','));
  } finally {
    await pub.close();
    await b.close();
  }
});

test('wrong credentials are refused at once; an absent broker is retried; ws:// works', { timeout: 30_000 }, async () => {
  const b = await broker(0);
  const overWs = new Publisher({ url: b.wsUrl, ...b.serviceUser });
  await overWs.start(5000);
  assert.ok(overWs.publishVolatile('aunet/x/frame', new Uint8Array(10)));
  await overWs.close();
  const bad = new Publisher({ url: b.url, username: 'op', password: 'nope' });
  await assert.rejects(bad.start(5000), (e: Error & { code?: string }) => e.code === 'BROKER_REFUSED' && /refused/.test(e.message));
  await bad.close();
  await b.close();

  const port = await freePort();
  const later = new Publisher({ url: `mqtt://127.0.0.1:${port}`, username: 'op', password: 'pw' });
  await assert.rejects(later.start(400), (e: Error & { code?: string }) => e.code === 'BROKER_TIMEOUT');
  let connected = false;
  later.on('connect', () => (connected = true));
  const b2 = await broker(port);
  try {
    await waitFor(() => connected, 3000, 'connect once the broker appears');
  } finally {
    await later.close();
    await b2.close();
  }
});

async function waitFor(pred: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}
