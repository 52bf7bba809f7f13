// End to end against a real Mosquitto (started here, tests/host/publish/mosquitto.ts)
// with `aunet run` as a separate process: frames equal a direct inference,
// status is retained, the ACL keeps anonymous commands out, malformed commands
// are logged and ignored, the broker killed and restarted -> frames again
// within 2 s, the live service SIGKILLed -> its Last Will marks it offline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import mqtt from 'mqtt';
import { startMosquitto, MOSQUITTO } from '../publish/mosquitto.js';
import { assertIncreasingIds, assertMatchesDirect, retainedMessage, Recorder } from './helpers.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { startAunet } from '../../support/aunet-cli.js';

const MODEL = 'random:F4x64';
const PHANTOM = { width: 160, height: 120, fps: 30, seed: 5 };
const SOURCE = 'phantom:?size=160x120&fps=30&frames=0&seed=5';

test('mosquitto: frames, retained status, ACL, broker restart, Last Will', { timeout: 110_000 }, async () => {
  assert.ok(existsSync(MOSQUITTO), `${MOSQUITTO} is required (Debian package mosquitto)`);
  const mosq = await startMosquitto({ 'aunet-service': 'rt-secret', operator: 'op-secret' });
  const clients: mqtt.MqttClient[] = [];
  // the password from the environment, never a flag (docs/config.md)
  const service = startAunet(['run', '--broker', mosq.url, '--username', 'aunet-service', '--device', 'm1', '--model', MODEL, '--source', SOURCE], { env: { AUNET_BROKER_PASSWORD: 'rt-secret' } });
  const { child } = service;
  try {
    // a subscriber that reconnects fast, like a monitor would
    const sub = await mqtt.connectAsync(mosq.url, { reconnectPeriod: 100, connectTimeout: 2000 });
    clients.push(sub);
    const rec = new Recorder(sub);
    sub.on('connect', () => void sub.subscribe('aunet/m1/#'));
    await sub.subscribeAsync('aunet/m1/#');
    await rec.until(() => rec.frames.length >= 10, 60_000, `10 frames from the live service (stderr: ${service.err().slice(-500)})`);
    assert.match(service.out(), /MQTT: mqtt:\/\/127\.0\.0\.1/);
    assert.doesNotMatch(service.out(), /rt-secret/, 'the password is never printed');
    assert.doesNotMatch(readFileSync(`/proc/${child.pid}/cmdline`, 'utf8'), /rt-secret/, 'nor visible in ps');

    // retained status for a late subscriber
    const late = await retainedMessage(mosq.url, 'aunet/m1/status', clients);
    const st = JSON.parse(late.payload.toString());
    assert.ok(['warming', 'live', 'degraded'].includes(st.state), st.state);
    assert.equal(st.online, true);

    // anonymous command: the ACL drops it; operator's malformed command: rejected and logged
    const anon = await mqtt.connectAsync(mosq.url, { reconnectPeriod: 0 });
    clients.push(anon);
    await anon.publishAsync('aunet/m1/cmd', '{"cmd":"pause","id":"anon"}', { qos: 1 });
    const op = await mqtt.connectAsync(mosq.url, { username: 'operator', password: 'op-secret', reconnectPeriod: 0 });
    clients.push(op);
    await op.publishAsync('aunet/m1/cmd', '{"cmd":"gates","gates":[5],"id":"bad"}', { qos: 1 });
    await rec.until(() => rec.json('/cmd/reply').some((r) => r.id === 'bad'), 10_000, 'reply to the malformed command');
    assert.ok(!rec.json('/cmd/reply').some((r) => r.id === 'anon'), 'the anonymous command never reached the live service');
    const bad = rec.json('/cmd/reply').find((r) => r.id === 'bad')!;
    assert.equal(bad.ok, false);
    assert.match(String(bad.error), /gates\.0/);
    const n0 = rec.frames.length;
    await rec.until(() => rec.frames.length >= n0 + 5, 10_000, 'frames after the commands');
    await rec.until(() => service.err().includes('command rejected'), 5000, 'the rejection in the log');

    // broker killed and restarted: frames flow again within 2 s of its return
    await mosq.kill();
    await sleep(1000);
    await mosq.start();
    const back = Date.now();
    await rec.until(() => rec.frames.some((f) => f.publishTime > back), 5000, 'frames after the broker restart');
    const first = rec.frames.find((f) => f.publishTime > back)!;
    const recovery = first.publishTime - back;
    console.log(`# broker restart -> first frame published after ${recovery.toFixed(0)} ms`);
    assert.ok(recovery < 2000, `frames again after ${recovery} ms`);
    assert.equal(child.exitCode, null, 'the live service kept running');
    assertIncreasingIds(rec.frames);
    // status is retained again on the fresh broker (no persistence)
    const again = await mqtt.connectAsync(mosq.url, { reconnectPeriod: 0 });
    clients.push(again);
    const againRec = new Recorder(again);
    await again.subscribeAsync('aunet/m1/status');
    await againRec.until(() => againRec.messages.some((m) => m.retain), 5000, 'retained status after the restart');
    await again.endAsync();

    // masks and attention maps equal a direct inference of the same frames
    const checked = await assertMatchesDirect(rec.frames.slice(0, 6), MODEL, PHANTOM);
    assert.equal(checked, 6);

    // SIGKILL: no clean disconnect, the broker publishes the Last Will
    child.kill('SIGKILL');
    await service.exit;
    await rec.until(() => rec.json('/status').some((s) => s.state === 'offline'), 10_000, 'the Last Will');
    const will = rec.json('/status').find((s) => s.state === 'offline')!;
    assert.equal(will.online, false);
    assert.equal(will.device, 'm1');
    const after = await retainedMessage(mosq.url, 'aunet/m1/status', clients, 'retained offline status');
    assert.equal(JSON.parse(after.payload.toString()).state, 'offline');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    for (const c of clients) await c.endAsync(true).catch(() => {});
    await mosq.stop();
  }
});
