// End to end with the embedded aedes broker: the live service in this process (its
// source in a worker thread), subscribers over WebSocket and TCP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { resolveConfig } from '../../../contracts/run-config.js';
import { LiveService } from '../../../host/box/live-service.js';
import { assertIncreasingIds, assertMatchesDirect, retainedMessage, Recorder } from './helpers.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { memoryOperators } from '../../support/operators.js';
import { getPriority } from 'node:os';
import { OTHER_THREADS_NICE } from '../../../common/thread-priority.js';
import { FRAMES_HEAP_GROWING_PERCENT } from '../../../common/heap-growth.js';

const MODEL = 'random:F4x64';
const PHANTOM = { width: 160, height: 120, fps: 30, seed: 3 };
const SOURCE = `phantom:?size=160x120&fps=30&frames=0&seed=3`;

test('embedded broker: frames, retained status, commands and their authorisation', { timeout: 90_000 }, async () => {
  const logLines: string[] = [];
  const log = pino({ level: 'info' }, new Writable({ write: (chunk, _e, cb) => (logLines.push(String(chunk)), cb()) }));
  const config = resolveConfig({
    model: MODEL,
    source: SOURCE,
    device: 'e2e',
    broker: { port: 0, httpPort: 0 },
    pipeline: { warmupFrames: 2 },
    publish: { statsIntervalMs: 300 },
  });
  const rt = await LiveService.start({ config, log, version: 'test', operators: memoryOperators({ operator: 'op-secret' }) });
  const clients: mqtt.MqttClient[] = [];
  try {
    assert.equal(rt.engine.kind, 'chip');
    // inference first: the inference thread (AUNET_THREADS=1 in the test runs: no kernel worker) keeps
    // its priority, this main thread and the source's thread are lowered (common/thread-priority.ts)
    assert.equal(rt.engine.threadIds.length, rt.engine.threads, 'the inference thread and each kernel worker have an OS id');
    for (const tid of rt.engine.threadIds) assert.ok(getPriority(tid) < OTHER_THREADS_NICE, `inference thread ${tid} not lowered`);
    assert.equal(getPriority(process.pid), OTHER_THREADS_NICE, 'the main thread (broker, publishing) lowered');
    assert.ok(logLines.some((l) => l.includes('threads other than inference lowered')));
    // and its heap may grow further between full collections (common/heap-growth.ts)
    assert.ok(logLines.some((l) => l.includes('heap growth between full collections set') && l.includes(`"percent":${FRAMES_HEAP_GROWING_PERCENT}`)));
    const broker = rt.broker!;
    // the monitor's way in: MQTT over WebSocket on the HTTP port
    const ws = await mqtt.connectAsync(broker.wsUrl, { reconnectPeriod: 0 });
    clients.push(ws);
    const rec = new Recorder(ws);
    // anonymous viewers may read the viewer topics, each named (docs/mqtt.md)
    await ws.subscribeAsync(['aunet/e2e/status', 'aunet/e2e/frame', 'aunet/e2e/stats', 'aunet/e2e/cmd/reply']);
    await rec.until(() => rec.frames.length >= 12, 30_000, '12 frames over WebSocket');
    // a live status (a state change published while the subscription is being set up) may
    // overtake the retained copy; MQTT only promises that the retained one is delivered
    const status0 = rec.on('/status').find((m) => m.retain);
    assert.ok(status0, 'status arrives retained to a new subscriber');
    const s0 = JSON.parse(status0.payload.toString());
    assert.equal(s0.device, 'e2e');
    assert.deepEqual(s0.model.input, { width: 64, height: 64, channels: 1 });
    assert.equal(s0.model.sha256, 'random');
    assert.equal(s0.engine, 'chip');
    assert.equal(s0.software.version, 'test');

    // anonymous clients may read but not command
    const anon = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
    clients.push(anon);
    const refusedBefore = broker.refused;
    anon.publish('aunet/e2e/cmd', '{"cmd":"pause"}', { qos: 0 });
    await rec.until(() => broker.refused > refusedBefore, 5000, 'the broker to refuse the anonymous command');
    const n0 = rec.frames.length;
    await rec.until(() => rec.frames.length >= n0 + 5, 10_000, 'frames to keep flowing after an anonymous pause');
    assert.ok(!logLines.some((l) => l.includes('command applied')), 'the anonymous pause never reached the live service');

    // wrong password: refused at connect
    await assert.rejects(mqtt.connectAsync(broker.url, { username: 'operator', password: 'wrong', reconnectPeriod: 0 }), /username or password|Not authorized/i);

    const op = await mqtt.connectAsync(broker.url, { username: 'operator', password: 'op-secret', reconnectPeriod: 0 });
    clients.push(op);
    // malformed: rejected, logged, answered, stream unaffected
    op.publish('aunet/e2e/cmd', '{"cmd":"threshold","value":7,"id":"m1"}');
    op.publish('aunet/e2e/cmd', 'this is not json');
    await rec.until(() => rec.json('/cmd/reply').length >= 2, 5000, 'two command replies');
    const [r1, r2] = rec.json('/cmd/reply');
    assert.equal(r1.ok, false);
    assert.equal(r1.id, 'm1');
    assert.match(String(r1.error), /value/);
    assert.match(String(r2.error), /not JSON/);
    assert.ok(logLines.filter((l) => l.includes('command rejected')).length >= 2, 'malformed commands are logged');
    const n1 = rec.frames.length;
    await rec.until(() => rec.frames.length >= n1 + 3, 10_000, 'frames after malformed commands');

    // threshold and gates take effect on the next frames
    op.publish('aunet/e2e/cmd', '{"cmd":"threshold","value":0.25}');
    op.publish('aunet/e2e/cmd', '{"cmd":"gates","gates":[2]}');
    await rec.until(() => rec.frames.some((f) => f.threshold === 64 && f.attention[1] && !f.attention[0] && !f.attention[2] && !f.attention[3]), 10_000, 'a frame with the new threshold and gates');
    const tf = rec.frames.find((f) => f.threshold === 64 && f.attention[1] && !f.attention[0])!;
    assert.deepEqual(tf.mask, tf.prob.map((v) => (v > 64 ? 1 : 0)));

    // pause stops frames; resume brings them back
    op.publish('aunet/e2e/cmd', '{"cmd":"pause","id":"p"}');
    await rec.until(() => rec.json('/cmd/reply').some((r) => r.id === 'p' && r.ok === true), 5000, 'pause acknowledged');
    await sleep(300); // a frame in flight may still come out
    const nPaused = rec.frames.length;
    await sleep(700);
    assert.equal(rec.frames.length, nPaused, 'no frames while paused');
    const paused = rec.json('/status').at(-1)!;
    assert.equal(paused.paused, true);
    op.publish('aunet/e2e/cmd', '{"cmd":"resume"}');
    await rec.until(() => rec.frames.length >= nPaused + 3, 10_000, 'frames after resume');

    // stats arrive about every interval, with per-stage percentiles after the warm-up
    const stats = rec.json('/stats');
    assert.ok(stats.length >= 2);
    const last = stats.at(-1) as { latencyMs: Record<string, { p50: number; p99: number; max: number } | null>; frames: { out: number } };
    for (const stage of ['queue', 'preprocess', 'inference', 'engine', 'postprocess', 'publish', 'endToEnd']) {
      const p = last.latencyMs[stage];
      assert.ok(p && p.p50 <= p.p99 && p.p99 <= p.max, `stats.latencyMs.${stage}`);
    }
    // the engine's own time is part of the pipeline's wait for it
    assert.ok(last.latencyMs.engine!.p50 <= last.latencyMs.inference!.p50, JSON.stringify(last.latencyMs));
    assert.ok(last.frames.out > 0);

    // a late subscriber gets the retained, current status
    const late = await retainedMessage(broker.url, 'aunet/e2e/status', clients);
    assert.equal(JSON.parse(late.payload.toString()).paused, false);

    // every frame: ids strictly increase, and the maps equal a direct inference of the same frame
    assertIncreasingIds(rec.frames);
    const defaults = rec.frames.filter((f) => f.threshold === 128).slice(0, 8);
    const checked = await assertMatchesDirect([...defaults, tf], MODEL, PHANTOM);
    assert.equal(checked, defaults.length + 1);

    // the HTTP side serves the monitor's config (and its files once built)
    const cfg = (await (await fetch(`${broker.monitorUrl}config.json`)).json()) as { broker: null; device: string };
    assert.deepEqual(cfg, { broker: null, device: 'e2e', operators: true });
    const escape = await fetch(`${broker.monitorUrl}..%2f..%2fpackage.json`);
    assert.equal(escape.status, 400, 'a dot segment is refused before any file is looked up');
  } finally {
    for (const c of clients) await c.endAsync(true).catch(() => {});
    await rt.stop();
  }
});
