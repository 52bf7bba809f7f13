// The embedded broker as an attacker on the same machine or behind a web page
// meets it: WebSocket upgrades checked for Origin and Host, anonymous clients
// confined to the viewer topics, no $SYS, no client-id takeover of a signed-in
// client, no retained commands, oversized packets cut at their fixed header,
// MQTT 5 refused (aedes speaks 3.1.1; docs/mqtt.md says so).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import WebSocket from 'ws';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../../host/publish/broker.js';
import { maySubscribe, mayPublish, mayTakeClientId, packetLimit, SMALL_PACKET_BYTES } from '../../../host/publish/broker-policy.js';
import { memoryOperators } from '../../support/operators.js';
import { oversizedPublish } from './raw-mqtt.js';
import { setTimeout as sleep } from 'node:timers/promises';

const OP = { username: 'operator', password: 'op-secret-1' };

async function withBroker(fn: (b: EmbeddedBroker, lines: string[]) => Promise<void>): Promise<void> {
  const lines: string[] = [];
  const b = await startEmbeddedBroker({ port: 0, httpPort: 0, operators: memoryOperators({ [OP.username]: OP.password }), device: 'sec', maxServicePacketBytes: 50_000, allowedOrigins: ['http://listed.example'], log: (_l, msg, f) => lines.push(`${msg} ${JSON.stringify(f ?? {})}`) });
  const clients: mqtt.MqttClient[] = [];
  try {
    await fn(b, lines);
  } finally {
    for (const c of clients) await c.endAsync(true).catch(() => {});
    await b.close();
  }
}

/** Open a WebSocket to the broker with these headers; resolves 'open' or the HTTP status it was refused with. */
function upgrade(url: string, headers: Record<string, string>): Promise<string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, 'mqtt', { headers, origin: headers.origin });
    ws.on('open', () => {
      ws.terminate();
      resolve('open');
    });
    ws.on('unexpected-response', (_req, res) => {
      resolve(String(res.statusCode));
      ws.terminate();
    });
    ws.on('error', (e) => resolve(`error ${e.message}`));
  });
}

test('policy: viewers read only viewer topics, operators send only non-retained commands, ids are not taken over', () => {
  const anon = { role: 'anonymous', username: null } as const;
  const op = { role: 'operator', username: 'op' } as const;
  const svc = { role: 'service', username: 'aunet-service' } as const;
  for (const f of ['aunet/+/status', 'aunet/box-1/frame', 'aunet/box-1/stats', 'aunet/+/cmd/reply', 'aunet/+/thumb']) assert.ok(maySubscribe(anon, f).ok, f);
  for (const f of ['#', '+/#', 'aunet/#', 'aunet/+/+', 'aunet/box-1/cmd', 'aunet/box-1/#', '$SYS/#', '$SYS/+/new/clients', 'aunet/a/b/status']) assert.ok(!maySubscribe(anon, f).ok, f);
  assert.ok(maySubscribe(op, 'aunet/#').ok);
  assert.ok(!maySubscribe(op, '$SYS/#').ok);
  assert.ok(maySubscribe(svc, '$SYS/#').ok);
  assert.ok(!mayPublish(anon, 'aunet/x/cmd', false, 10).ok);
  assert.ok(mayPublish(op, 'aunet/x/cmd', false, 10).ok);
  assert.ok(!mayPublish(op, 'aunet/x/cmd', true, 10).ok, 'retained command');
  assert.ok(mayPublish(op, 'aunet/x/cmd', true, 0).ok, 'clearing a retained command');
  assert.ok(!mayPublish(op, 'aunet/x/status', true, 10).ok);
  assert.ok(mayPublish(svc, 'aunet/x/status', true, 10).ok);
  assert.ok(!mayPublish(svc, 'aunet/x/cmd', true, 10).ok);
  assert.ok(mayTakeClientId(undefined, anon).ok && mayTakeClientId(anon, anon).ok);
  assert.ok(!mayTakeClientId(op, anon).ok && !mayTakeClientId(op, { role: 'operator', username: 'other' }).ok && !mayTakeClientId(svc, op).ok);
  assert.ok(mayTakeClientId(op, { role: 'operator', username: 'op' }).ok);
  assert.equal(packetLimit(null, 200_000), SMALL_PACKET_BYTES);
  assert.equal(packetLimit('operator', 200_000), SMALL_PACKET_BYTES);
  assert.equal(packetLimit('service', 200_000), 200_000);
});

test('WebSocket upgrades: another origin and a rebound Host are refused; the page, listed origins and programs get in', { timeout: 30_000 }, async () => {
  await withBroker(async (b, lines) => {
    const host = `127.0.0.1:${b.httpPort}`;
    assert.equal(await upgrade(b.wsUrl, { origin: 'http://evil.example' }), '403');
    assert.equal(await upgrade(b.wsUrl, { origin: `http://127.0.0.1:${b.httpPort + 1}` }), '403');
    assert.equal(await upgrade(b.wsUrl, { origin: 'null' }), '403');
    assert.equal(await upgrade(b.wsUrl, { host: `rebound.example:${b.httpPort}`, origin: `http://rebound.example:${b.httpPort}` }), '421');
    assert.equal(await upgrade(`ws://${host}/other`, {}), '404');
    assert.equal(await upgrade(b.wsUrl, { origin: `http://${host}` }), 'open');
    assert.equal(await upgrade(b.wsUrl, { origin: 'http://listed.example' }), 'open');
    assert.equal(await upgrade(b.wsUrl, {}), 'open');
    assert.ok(lines.some((l) => l.includes('WebSocket refused')), 'refusals are logged');
    // a frame-reading page of another origin gets nothing: mqtt.js over a refused upgrade never connects
    const evil = mqtt.connect(b.wsUrl, { reconnectPeriod: 0, connectTimeout: 2000, wsOptions: { origin: 'http://evil.example' } } as mqtt.IClientOptions);
    const outcome = await new Promise<string>((r) => {
      evil.on('connect', () => r('connected'));
      evil.on('error', () => r('refused'));
      evil.on('close', () => r('refused'));
    });
    evil.end(true);
    assert.equal(outcome, 'refused');
  });
});

test('anonymous clients: viewer topics only, no $SYS; retained commands refused; client ids of signed-in clients kept', { timeout: 30_000 }, async () => {
  await withBroker(async (b) => {
    const anon = await mqtt.connectAsync(b.url, { reconnectPeriod: 0 });
    const granted = await anon.subscribeAsync(['aunet/+/status', 'aunet/sec/frame', 'aunet/sec/cmd/reply']);
    assert.deepEqual(granted.map((g) => g.qos), [0, 0, 0]);
    // refused filters get SUBACK 0x80 (mqtt.js rejects), and the connection stays
    for (const f of ['aunet/sec/#', '#', '$SYS/#', 'aunet/sec/cmd']) await assert.rejects(anon.subscribeAsync(f), /Subscribe error/, f);
    assert.ok(anon.connected);

    // the operator signs in with a fixed client id; an anonymous client reusing it is refused, the operator stays
    const op = await mqtt.connectAsync(b.url, { ...OP, clientId: 'monitor-abc', reconnectPeriod: 0 });
    await assert.rejects(mqtt.connectAsync(b.url, { clientId: 'monitor-abc', reconnectPeriod: 0 }), /identifier rejected|Identifier rejected/i);
    await sleep(200);
    assert.ok(op.connected, 'the signed-in operator was not disconnected');
    // and an anonymous client's id can be reused (plain MQTT takeover)
    const a1 = await mqtt.connectAsync(b.url, { clientId: 'viewer-1', reconnectPeriod: 0 });
    const a2 = await mqtt.connectAsync(b.url, { clientId: 'viewer-1', reconnectPeriod: 0 });
    await a2.endAsync(true);
    a1.end(true);

    // a retained command is refused (the connection closes: MQTT 3.1.1 has no refusal code for PUBLISH) and not stored
    const opClosed = new Promise<void>((r) => op.once('close', () => r()));
    op.publish('aunet/sec/cmd', '{"cmd":"pause"}', { qos: 1, retain: true });
    await opClosed;
    op.end(true);
    const svc = await mqtt.connectAsync(b.url, { ...b.serviceUser, reconnectPeriod: 0 });
    const got: string[] = [];
    svc.on('message', (t, p) => got.push(`${t} ${p}`));
    await svc.subscribeAsync(['aunet/sec/cmd', '$SYS/+/new/clients']);
    await sleep(300);
    assert.ok(!got.some((g) => g.startsWith('aunet/sec/cmd')), `no retained command stored: ${got.join('; ')}`);
    assert.ok(b.refused >= 5);
    await svc.endAsync(true);
    await anon.endAsync(true);
  });
});

test('packet-size gate: an anonymous 250 MiB publish is cut after its fixed header; the live service may send its frame sizes', { timeout: 30_000 }, async () => {
  await withBroker(async (b, lines) => {
    const big = await oversizedPublish(b.port, 250 * 1024 * 1024, 64 * 1024 * 1024);
    assert.ok(big.closed, 'the connection was closed');
    assert.ok(big.written < 16 * 1024 * 1024, `closed after ${big.written} bytes written`);
    assert.equal(b.oversized, 1);
    assert.ok(lines.some((l) => l.includes('packet over the limit') && l.includes('"announced":262144000')), lines.join('\n'));
    // an operator's packet is small too
    const opBig = await oversizedPublish(b.port, 100_000, 100_000, OP);
    assert.ok(opBig.closed);
    assert.equal(b.oversized, 2);
    // the service's frame messages (up to maxServicePacketBytes) pass, larger ones do not
    const svc = await mqtt.connectAsync(b.url, { ...b.serviceUser, reconnectPeriod: 0 });
    const sub = await mqtt.connectAsync(b.url, { reconnectPeriod: 0 });
    const got: number[] = [];
    sub.on('message', (_t, p) => got.push(p.length));
    await sub.subscribeAsync('aunet/sec/frame');
    await svc.publishAsync('aunet/sec/frame', Buffer.alloc(45_000));
    for (let i = 0; i < 50 && got.length === 0; i++) await sleep(20);
    assert.deepEqual(got, [45_000]);
    const closed = new Promise<void>((r) => svc.once('close', () => r()));
    svc.publish('aunet/sec/frame', Buffer.alloc(60_000));
    await closed;
    svc.end(true);
    await sub.endAsync(true);
  });
});

test('MQTT 5 is refused by the embedded broker (aedes 1.x speaks 3.1.1)', { timeout: 10_000 }, async () => {
  await withBroker(async (b) => {
    await assert.rejects(mqtt.connectAsync(b.url, { protocolVersion: 5, reconnectPeriod: 0 }), /protocol|Unsupported/i);
  });
});
