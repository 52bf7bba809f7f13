// "Healthy" does not need a camera: a box whose capture device is unplugged (the image names
// v4l2:/dev/... and the node is absent) still confirms a good image, its pipeline degraded with
// `source-lost` and its status saying so, instead of reverting every image it is given.
// Real processes: the agent and its pipeline child on a socat pty pair, flashed by `aunet flash`.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { boxRoot, firmwareWorkspace, makeImage, ptyPair, startAgent, stopAgent } from './helpers-firmware.ts';
import { freePort } from '../publish/mosquitto.ts';
import { runAunet } from '../../support/aunet-cli.js';

const { dir, publicKey, key } = firmwareWorkspace('nocam');
after(() => rmSync(dir, { recursive: true, force: true }));

test('an image whose capture device is absent confirms: the pipeline is alive, degraded with source-lost', async () => {
  const absent = join(dir, 'video-absent');
  const image = await makeImage(dir, key, '1.0.0', 1, { config: { source: `v4l2:${absent}`, engine: 'direct' } });
  const pty = await ptyPair(dir, 'nocam');
  const root = boxRoot(dir, 'root', { device: 'nocam', broker: { port: await freePort(), httpPort: await freePort() } });
  const agent = await startAgent(pty.b, root, publicKey, {}, ['--healthy-for', '2']);
  try {
    const r = await runAunet(['flash', '--port', pty.a, '--reboot', '--no-progress', image], { timeoutMs: 90_000 });
    assert.equal(r.code, 0, r.stderr);
    let info: Record<string, any> = {};
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const i = await runAunet(['device', 'info', '--port', pty.a, '--json']);
      if (i.code === 0) info = JSON.parse(i.stdout);
      if (info.firmware?.state === 'confirmed') break;
      await sleep(500);
    }
    assert.equal(info.firmware?.state, 'confirmed', `not confirmed: ${JSON.stringify(info)}\n${agent.log.join('').slice(-2000)}`);
    assert.equal(info.firmware.version, '1.0.0');
    assert.equal(info.pipeline.state, 'running');
    assert.equal(info.pipeline.stream, 'degraded', 'the pipeline says its source is lost');
    assert.equal(info.pipeline.recentCrashes, 0);
    assert.ok(agent.lines().some((l) => l.msg === 'trial confirmed: passed the self-test and stayed healthy'));
  } finally {
    await stopAgent(agent);
    pty.close();
  }
});
