// The monitor's MQTT-over-WebSocket bridge to a TCP broker (host/publish/
// mqtt-bridge.ts) against a real Mosquitto that accepts no anonymous client:
// a viewer gets the configured viewer account and may only read; an operator's
// sign-in reaches Mosquitto as that operator (the ACL lets only operators
// command, so a delivered command proves it); the Origin check, the growing
// sign-in delays, the packet-size gate, TLS upstream; and `aunet monitor`'s
// refusals of bad flags.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import WebSocket from 'ws';
import { attachMqttBridge, type MqttBridge } from '../../../host/publish/mqtt-bridge.js';
import { SignInLimiter } from '../../../host/publish/sign-in-limiter.js';
import { readInputFile } from '../../../common/input-file.js';
import { DEFAULT_ACL, startMosquitto, type Mosquitto } from './mosquitto.js';
import { runAunet, sleep } from '../../support/aunet-cli.js';

const USERS = { 'aunet-service': 'svc-pw-1', operator: 'op-pw-2', viewer: 'view-pw-3' };
const ACL = [...DEFAULT_ACL, 'user viewer', 'topic read aunet/#', ''];

let mosq: Mosquitto;
let server: Server;
let bridge: MqttBridge;
let origin: string;
let wsUrl: string;
let service: mqtt.MqttClient;
// the product's limiter (the embedded broker's too), with no free failures so the test sees the delays at once
const limiter = new SignInLimiter({ freeFailures: 0, baseDelayMs: 400, maxDelayMs: 5000 });

before(async () => {
  mosq = await startMosquitto(USERS, { allowAnonymous: false, acl: ACL, tls: true });
  server = createServer((_req, res) => res.writeHead(404).end());
  bridge = attachMqttBridge(server, {
    broker: { url: mosq.url },
    viewer: { username: 'viewer', password: USERS.viewer },
    origins: { allowedOrigins: ['https://proxy.example.org'], requireOrigin: true },
    limiter,
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  origin = `http://127.0.0.1:${port}`;
  wsUrl = `ws://127.0.0.1:${port}/mqtt`;
  service = await mqtt.connectAsync(mosq.url, { username: 'aunet-service', password: USERS['aunet-service'] });
  await service.publishAsync('aunet/box-1/status', JSON.stringify({ state: 'live' }), { qos: 1, retain: true });
});

after(async () => {
  await service?.endAsync();
  await bridge?.close();
  limiter.close();
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  await mosq?.stop();
});

/** A browser-like client: through the bridge, with the page's Origin. */
function browserClient(creds: { username?: string; password?: string } = {}, headers: Record<string, string> = { Origin: origin }) {
  return mqtt.connectAsync(wsUrl, { ...creds, reconnectPeriod: 0, connectTimeout: 8000, wsOptions: { headers } });
}

/** Messages the service's subscriber sees on `topic` while `act` runs (and 500 ms after). */
async function seenBy(topic: string, act: () => Promise<void>): Promise<string[]> {
  const got: string[] = [];
  const on = (t: string, p: Buffer) => t === topic && got.push(p.toString());
  service.on('message', on);
  await service.subscribeAsync(topic);
  await act();
  await sleep(500);
  service.off('message', on);
  await service.unsubscribeAsync(topic);
  return got;
}

test('bridge: a viewer reads through the viewer account, cannot subscribe elsewhere, cannot publish', async () => {
  const viewer = await browserClient();
  try {
    const status = new Promise<string>((r) => viewer.on('message', (t, p) => t === 'aunet/box-1/status' && r(p.toString())));
    const ok = await viewer.subscribeAsync('aunet/+/status');
    assert.equal(ok[0].qos, 0, 'aunet/+/status granted');
    assert.match(await status, /"live"/, 'the retained status came through Mosquitto, which admits no anonymous client');
    const refused = bridge.refused;
    const bad = await viewer.subscribeAsync(['#', 'aunet/+/status']).then(
      () => null,
      (e: Error & { packet?: { granted?: number[] } }) => e.packet?.granted,
    );
    assert.deepEqual(bad, [128, 128], 'a subscribe with a forbidden filter is refused as a whole');
    const got = await seenBy('aunet/box-1/cmd', () => viewer.publishAsync('aunet/box-1/cmd', '{"cmd":"pause"}', { qos: 1 }).then(() => {}));
    assert.deepEqual(got, [], 'a viewer\'s command never reaches the broker');
    assert.ok(bridge.refused >= refused + 2);
  } finally {
    await viewer.endAsync();
  }
});

test('bridge: an operator signs in as the operator (Mosquitto lets only operators command), and may not publish status', async () => {
  const op = await browserClient({ username: 'operator', password: USERS.operator });
  try {
    const got = await seenBy('aunet/box-1/cmd', () => op.publishAsync('aunet/box-1/cmd', '{"cmd":"pause","id":"m1"}', { qos: 1 }).then(() => {}));
    assert.deepEqual(got, ['{"cmd":"pause","id":"m1"}']);
    const forged = await seenBy('aunet/box-1/status', () => op.publishAsync('aunet/box-1/status', '{"state":"offline"}', { qos: 1 }).then(() => {}));
    assert.deepEqual(forged.filter((m) => /offline/.test(m)), [], 'the policy keeps an operator off the status topic');
  } finally {
    await op.endAsync();
  }
});

test('bridge: failed sign-ins are answered ever later (username + address + origin), a success clears it', async () => {
  const attempt = async (password: string): Promise<{ ok: boolean; ms: number }> => {
    const t0 = performance.now();
    try {
      const c = await browserClient({ username: 'operator', password });
      await c.endAsync();
      return { ok: true, ms: performance.now() - t0 };
    } catch {
      return { ok: false, ms: performance.now() - t0 };
    }
  };
  const first = await attempt('wrong');
  const second = await attempt('wrong');
  const third = await attempt('wrong');
  assert.deepEqual([first.ok, second.ok, third.ok], [false, false, false]);
  // the limiter counts each delay from the failure before, so a client sees a little less of it
  assert.ok(second.ms >= 300 && third.ms >= 600, `delays grow: ${[first, second, third].map((a) => a.ms.toFixed(0)).join(', ')} ms`);
  const right = await attempt(USERS.operator);
  assert.ok(right.ok && right.ms >= 1200, `the right password after three failures still waits (${right.ms.toFixed(0)} ms), then clears`);
  const again = await attempt(USERS.operator);
  assert.ok(again.ok && again.ms < 1000, `no delay after a success (${again.ms.toFixed(0)} ms)`);
  const keys = new SignInLimiter({ freeFailures: 0, baseDelayMs: 10_000 });
  await keys.attempt({ username: 'operator', address: '10.0.0.1', origin: 'http://a' }, async () => false);
  const t0 = performance.now();
  await keys.attempt({ username: 'operator', address: '10.0.0.2', origin: 'http://a' }, async () => true);
  keys.close();
  assert.ok(performance.now() - t0 < 1000, 'another address is another key');
});

test('bridge: pages of other origins, and clients without one, are refused at the upgrade; a listed proxy origin is let in', async () => {
  const status = (headers: Record<string, string>) =>
    new Promise<number>((resolve) => {
      const ws = new WebSocket(wsUrl, 'mqtt', { headers });
      ws.on('open', () => {
        ws.close();
        resolve(101);
      });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('error', () => resolve(-1));
    });
  assert.equal(await status({ Origin: 'http://evil.example' }), 403);
  assert.equal(await status({}), 403);
  assert.equal(await status({ Origin: origin }), 101);
  assert.equal(await status({ Origin: 'https://proxy.example.org' }), 101);
});

test('bridge: a packet over the size gate closes the connection', async () => {
  const c = await browserClient();
  try {
    const closed = new Promise<void>((r) => c.once('close', () => r()));
    c.publish('aunet/box-1/cmd', Buffer.alloc(100 * 1024));
    await closed;
  } finally {
    c.end(true);
  }
});

test('bridge: mqtts:// upstream with the broker\'s CA', async () => {
  const s = createServer();
  const b = attachMqttBridge(s, { broker: { url: mosq.tlsUrl!, ca: readInputFile(mosq.caFile!) }, viewer: { username: 'viewer', password: USERS.viewer }, origins: {}, limiter });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  try {
    const c = await mqtt.connectAsync(`ws://127.0.0.1:${(s.address() as AddressInfo).port}/mqtt`, { reconnectPeriod: 0 });
    const status = new Promise<string>((r) => c.on('message', (_t, p) => r(p.toString())));
    await c.subscribeAsync('aunet/box-1/status');
    assert.match(await status, /live/);
    await c.endAsync();
  } finally {
    await b.close();
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

test('aunet monitor: bad broker URLs, credentials and flags are refused naming the problem', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'aunet-mon-'));
  try {
    const bad = join(dir, 'creds.yaml');
    writeFileSync(bad, 'username: viewer\n');
    const cases: [string[], Record<string, string>, number, RegExp][] = [
      [['--broker', 'mqtt://viewer:secret@127.0.0.1:1883'], {}, 2, /no credentials in the URL/],
      [['--broker', 'http://127.0.0.1'], {}, 2, /give mqtt:\/\/HOST:PORT/],
      [['--broker', 'mqtt://127.0.0.1:1', '--ca', join(dir, 'ca.pem')], {}, 2, /--ca is for an mqtts:\/\/ --broker/],
      [['--broker', 'ws://127.0.0.1:1/mqtt', '--credentials', bad], {}, 2, /apply to an mqtt:\/\/ or mqtts:\/\/ --broker only/],
      [['--broker', 'mqtt://127.0.0.1:1', '--credentials', join(dir, 'none.yaml')], {}, 1, /the viewer credentials \(--credentials\) not found \(.*none\.yaml\)/],
      [['--broker', 'mqtt://127.0.0.1:1', '--credentials', bad], {}, 1, /needs a string `username` and a string `password` \(the viewer account\) \(.*creds\.yaml\)/],
      [['--broker', 'mqtt://127.0.0.1:1'], { AUNET_MONITOR_USERNAME: 'viewer' }, 2, /set both AUNET_MONITOR_USERNAME and AUNET_MONITOR_PASSWORD/],
      [['--broker', 'mqtt://127.0.0.1:1', '--allow-origin', 'https://x.org/path'], {}, 2, /--allow-origin https:\/\/x\.org\/path/],
    ];
    for (const [args, env, code, re] of cases) {
      const r = await runAunet(['monitor', '--port', '0', ...args], { env, timeoutMs: 30_000 });
      assert.match(r.stderr, re, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.code, code, `${args.join(' ')}: exit ${r.code}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
