// Real BUSI images through `aunet run` (folder source, lossless replay, a
// .aunet file on disk) against `aunet infer` on the same images: the published
// mask, probability map and attention maps equal what infer writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode as decodePng } from 'fast-png';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { resolveConfig } from '../../../contracts/run-config.js';
import { LiveService } from '../../../host/box/live-service.js';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../../host/publish/broker.js';
import { readGreyImage } from '../../../common/image-io.js';
import { heatmap } from '../../../host/commands/support/render.js';
import { writeModel } from '../../../models/format.js';
import { randomQModel } from '../../../models/random-qmodel.js';
import { Recorder } from './helpers.js';
import { packageFile } from '../../../common/package-root.js';

const BUSI = packageFile('../shared/data/busi/');
const IMAGES = ['benign (1).png', 'malignant (2).png'];

test('frames published for BUSI images equal `aunet infer` of the same images', { timeout: 90_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'aunet-parity-'));
  const clients: mqtt.MqttClient[] = [];
  let rt: LiveService | null = null;
  let broker: EmbeddedBroker | null = null;
  try {
    const images = join(dir, 'images');
    mkdirSync(images);
    // copies named so that name order = IMAGES order
    IMAGES.forEach((name, i) => copyFileSync(join(BUSI, name.split(' ')[0], name), join(images, `${i}.png`)));
    const modelFile = join(dir, 'parity.aunet');
    writeModel(modelFile, randomQModel({ filters: 4, height: 64, width: 64, channels: 1 }, { seed: 9 }));

    // a broker of our own, subscribed before the live service starts, so no frame goes by unseen
    broker = await startEmbeddedBroker({ port: 0, httpPort: 0 });
    const sub = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
    clients.push(sub);
    const rec = new Recorder(sub);
    // anonymous clients read the viewer topics, each by name (docs/security.md)
    await sub.subscribeAsync(['aunet/parity/status', 'aunet/parity/frame', 'aunet/parity/stats']);
    const config = resolveConfig({
      model: modelFile,
      source: `folder:${images}`,
      device: 'parity',
      broker: { url: broker.url, ...broker.serviceUser },
      pipeline: { realtime: false, warmupFrames: 0 },
    });
    rt = await LiveService.start({ config, log: pino({ level: 'silent' }), version: 'test' });
    await rt.done;
    await rec.until(() => rec.json('/status').some((s) => (s.reasons as string[] | undefined)?.includes('source-ended')), 5000, 'status source-ended');
    const status = rec.json('/status').at(-1)!;
    assert.equal((status.model as { sha256: string }).sha256, createHash('sha256').update(readFileSync(modelFile)).digest('hex'));
    assert.equal(status.state, 'degraded');
    assert.equal(rec.frames.length, IMAGES.length, 'one frame message per image');

    for (const [i, name] of IMAGES.entries()) {
      const f = rec.frames[i];
      assert.equal(f.frameId, i);
      const out = join(dir, `infer-${i}`);
      const r = spawnSync(process.execPath, ['bin/aunet.js', 'infer', '--model', modelFile, '--input', join(images, `${i}.png`), '--out', out], { encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, 0, r.stderr);
      const mask = readGreyImage(join(out, 'mask.png'));
      assert.deepEqual(f.mask, mask.data.map((v) => (v ? 1 : 0)), `${name}: mask`);
      assert.deepEqual(f.prob, readGreyImage(join(out, 'prob.png')).data, `${name}: probability map`);
      for (let k = 0; k < 4; k++) {
        const a = f.attention[k]!;
        const side = 64 >> (4 - k);
        const expected = heatmap({ width: side, height: side, data: a }, 64, 64);
        const png = decodePng(readFileSync(join(out, `attention${k + 1}.png`)));
        assert.deepEqual(Uint8Array.from(png.data as Uint8Array), expected.data, `${name}: attention map a${k + 1}`);
      }
    }
  } finally {
    for (const c of clients) await c.endAsync(true).catch(() => {});
    await rt?.stop();
    await broker?.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
