// Power cut at every step of an update (write, verify, activate, the trial's
// boot, its self-test, its confirmation): the agent SIGKILLs itself and its
// pipeline at the step (AUNET_FAULT), is started again, and must come up
// running a valid signed image — the old one or the new one, never neither —
// with frames flowing; the update then completes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { loadPublicKey } from '../../../firmware/keys.ts';
import { verifyImage } from '../../../firmware/image.ts';
import { boxRoot, firmwareWorkspace, makeImage, ptyPair, startAgent, stopAgent, type AgentProc, type PtyPair } from './helpers-firmware.ts';
import { Recorder } from './helpers.ts';
import { freePort } from '../publish/mosquitto.ts';
import { runAunet } from '../../support/aunet-cli.js';
import { setTimeout as sleep } from 'node:timers/promises';

const POINTS = ['write-chunk@5', 'journal@2', 'verify', 'mark-pending', 'activate', 'boot-trial', 'self-test', 'confirm'];

let dir: string;
let pub: string;
let v1: string;
let v2: string;
let baseline: string;
let pty: PtyPair;
let mqttUrl: string;

before(async () => {
  let key;
  ({ dir, publicKey: pub, key } = firmwareWorkspace('powercut'));
  v1 = await makeImage(dir, key, '1.0.0', 1);
  v2 = await makeImage(dir, key, '2.0.0', 2, { modelSeed: 2, padding: 300_000 });
  pty = await ptyPair(dir, 'pc');
  // every box of this file uses the same ports: one runs at a time
  const port = await freePort();
  mqttUrl = `mqtt://127.0.0.1:${port}`;
  baseline = boxRoot(dir, 'baseline', { device: 'pc', broker: { port, httpPort: await freePort() } });
  // A box already running v1, confirmed: the starting point of every cut.
  const agent = await startAgent(pty.b, baseline, pub);
  const r = await runAunet(['flash', '--port', pty.a, '--reboot', '--no-progress', v1]);
  assert.equal(r.code, 0, r.stderr);
  await settled(agent, '1.0.0');
  await stopAgent(agent);
});

after(() => {
  pty?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Wait until the box runs a pipeline (any version, or `version` confirmed) with frames flowing; returns what runs. */
async function settled(agent: AgentProc, version?: string): Promise<{ version: string; slot: string }> {
  let info: Record<string, any> = {};
  for (let i = 0; i < 120; i++) {
    const r = await runAunet(['device', 'info', '--port', pty.a, '--json']);
    assert.equal(r.code, 0, r.stderr);
    info = JSON.parse(r.stdout);
    const fw = info.firmware;
    if (info.pipeline.state === 'running' && fw && (!version || (fw.version === version && fw.state === 'confirmed'))) break;
    await sleep(250);
  }
  assert.equal(info.pipeline.state, 'running', `no pipeline runs: ${JSON.stringify(info)}\n${agent.log.join('').slice(-2000)}`);
  const sub = await mqtt.connectAsync(mqttUrl, { reconnectPeriod: 0 });
  try {
    const rec = new Recorder(sub);
    await sub.subscribeAsync('aunet/pc/frame');
    await rec.until(() => rec.frames.length >= 3, 20_000, `frames from ${info.firmware.version}`);
  } finally {
    await sub.endAsync(true);
  }
  const img = verifyImage(readFileSync(join(dirOf(agent), 'slots', info.running, 'image.aufw')), loadPublicKey(pub));
  assert.equal(img.manifest.version, info.firmware.version);
  return { version: img.manifest.version, slot: info.running };
}

const roots = new WeakMap<AgentProc, string>();
const dirOf = (a: AgentProc) => roots.get(a) ?? baseline;

async function boot(root: string, env: Record<string, string> = {}): Promise<AgentProc> {
  const a = await startAgent(pty.b, root, pub, env);
  roots.set(a, root);
  return a;
}

for (const point of POINTS) {
  test(`power cut at ${point}: the box comes back running a valid image, frames flowing`, async () => {
    const root = join(dir, `box-${point.replace('@', '-')}`);
    cpSync(baseline, root, { recursive: true });
    const agent = await boot(root, { AUNET_FAULT: point });
    const flash = await runAunet(['flash', '--port', pty.a, '--reboot', '--no-progress', '--data-timeout', '300', '--timeout', '500', '--retries', '2', v2], { timeoutMs: 30_000 });
    // Boot-time points fire after the host is done; give the reboot, the self-test and the healthy spell time.
    const killed = await Promise.race([agent.exited.then(() => true), sleep(30_000).then(() => false)]);
    assert.ok(killed, `the agent never reached ${point} (flash: ${flash.stdout}${flash.stderr})`);
    assert.equal(agent.child.signalCode, 'SIGKILL');
    await stopAgent(agent); // anything of its group still alive
    const again = await boot(root);
    try {
      const now = await settled(again);
      assert.ok(['1.0.0', '2.0.0'].includes(now.version), `running ${now.version}`);
      // Once power is back the update still completes: flash again if the cut lost it.
      if (now.version !== '2.0.0') {
        const r = await runAunet(['flash', '--port', pty.a, '--reboot', '--no-progress', v2], { timeoutMs: 30_000 });
        assert.equal(r.code, 0, r.stderr);
      }
      assert.equal((await settled(again, '2.0.0')).version, '2.0.0');
    } finally {
      await stopAgent(again);
    }
  });
}
