// A retained command left on an external broker (Mosquitto accepts it from an
// operator; it cannot refuse retain per topic) must not replay at the next start
// of the live service: it is ignored, cleared on the broker and logged; clearing
// it (an empty message) is not a command and gets no error reply. The password
// comes from a file (broker.passwordFile / --password-file).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { setTimeout as sleep } from 'node:timers/promises';
import { startMosquitto } from '../publish/mosquitto.js';
import { Recorder } from './helpers.js';
import { startAunet } from '../../support/aunet-cli.js';

test('a retained pause on Mosquitto is ignored and cleared at start; an empty cmd gets no reply', { timeout: 90_000 }, async () => {
  const mosq = await startMosquitto({ 'aunet-service': 'rt-secret-2', operator: 'op-secret' });
  const dir = mkdtempSync(join(tmpdir(), 'aunet-retained-'));
  const clients: mqtt.MqttClient[] = [];
  const pwFile = join(dir, 'broker-password');
  writeFileSync(pwFile, 'rt-secret-2\n', { mode: 0o600 });
  const op = await mqtt.connectAsync(mosq.url, { username: 'operator', password: 'op-secret', reconnectPeriod: 0 });
  clients.push(op);
  await op.publishAsync('aunet/rc/cmd', '{"cmd":"pause","id":"left-behind"}', { qos: 1, retain: true });
  const service = startAunet(['run', '--broker', mosq.url, '--username', 'aunet-service', '--password-file', pwFile, '--device', 'rc', '--model', 'random:F4x64', '--source', 'phantom:?size=96x96&fps=20&frames=0']);
  try {
    const sub = await mqtt.connectAsync(mosq.url, { reconnectPeriod: 0 });
    clients.push(sub);
    const rec = new Recorder(sub);
    await sub.subscribeAsync(['aunet/rc/frame', 'aunet/rc/status', 'aunet/rc/cmd/reply']);
    await rec.until(() => rec.frames.length >= 5, 60_000, `frames although a retained pause waited (stderr: ${service.err().slice(-800)})`);
    await rec.until(() => service.err().includes('retained command ignored and cleared'), 5000, 'the log line');
    assert.equal(rec.json('/status').at(-1)?.paused, false);
    assert.ok(!rec.json('/cmd/reply').some((r) => r.id === 'left-behind'), 'the retained command was not applied');
    // the broker holds no retained command any more
    const late = await mqtt.connectAsync(mosq.url, { reconnectPeriod: 0 });
    clients.push(late);
    const retained: string[] = [];
    late.on('message', (_t, p, packet) => packet.retain && retained.push(p.toString()));
    await late.subscribeAsync('aunet/rc/cmd');
    await sleep(500);
    assert.deepEqual(retained, []);
    // an operator clearing a retained command by hand: an empty message, no error reply
    const replies = rec.json('/cmd/reply').length;
    await op.publishAsync('aunet/rc/cmd', '', { qos: 1, retain: true });
    await op.publishAsync('aunet/rc/cmd', '{"cmd":"resume","id":"after"}', { qos: 1 });
    await rec.until(() => rec.json('/cmd/reply').some((r) => r.id === 'after'), 10_000, 'the reply to the next command');
    assert.deepEqual(rec.json('/cmd/reply').slice(replies).map((r) => r.id), ['after'], 'the empty message got no reply');
  } finally {
    for (const c of clients) await c.endAsync(true).catch(() => {});
    await service.stop();
    await mosq.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
