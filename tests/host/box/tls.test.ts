// An external broker over TLS (mqtts://, Mosquitto with a throw-away CA): the
// live service connects with broker.tls.ca and publishes; without the CA it stops at
// once with an error that names the problem instead of retrying forever.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { resolveConfig } from '../../../contracts/run-config.js';
import { LiveService } from '../../../host/box/live-service.js';
import { Publisher } from '../../../host/publish/client.js';
import { startMosquitto } from '../publish/mosquitto.js';
import { Recorder } from './helpers.js';

test('mqtts: frames flow with the CA, refused without it', { timeout: 60_000 }, async () => {
  const mosq = await startMosquitto({ 'aunet-service': 'rt-secret' }, { tls: true });
  try {
    const config = resolveConfig({
      model: 'random:F4x64',
      source: 'phantom:?size=64x64&fps=30&frames=0',
      device: 'tls',
      broker: { url: mosq.tlsUrl!, username: 'aunet-service', password: 'rt-secret', tls: { ca: mosq.caFile! } },
      pipeline: { warmupFrames: 0 },
    });
    const sub = await mqtt.connectAsync(mosq.url, { reconnectPeriod: 0 });
    const rec = new Recorder(sub);
    await sub.subscribeAsync('aunet/tls/#');
    const rt = await LiveService.start({ config, log: pino({ level: 'silent' }), version: 'test' });
    try {
      await rec.until(() => rec.frames.length >= 3, 20_000, 'frames over TLS');
      assert.equal(rt.publisher.connected, true);
    } finally {
      await rt.stop();
      await sub.endAsync();
    }
    const noCa = new Publisher({ url: mosq.tlsUrl!, username: 'aunet-service', password: 'rt-secret' });
    await assert.rejects(noCa.start(5000), (e: Error & { code?: string }) => e.code === 'BROKER_TLS' && /tls\.ca/.test(e.message));
  } finally {
    await mosq.stop();
  }
});
