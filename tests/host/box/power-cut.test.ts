// Power cut at every step of write, verify, activate and first boot: the agent
// SIGKILLs itself at the step (AUNET_FAULT), is restarted, and must come up
// running a valid signed image — the old one or the new one, never neither.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadPublicKey } from '../../../firmware/keys.ts';
import { verifyImage } from '../../../firmware/image.ts';
import { firmwareWorkspace, makeImage, ptyPair, startAgent, stopAgent, type PtyPair } from './helpers-firmware.ts';
import { runAunet } from '../../support/aunet-cli.js';
import { setTimeout as sleep } from 'node:timers/promises';

const POINTS = ['write-chunk@5', 'journal@2', 'verify', 'mark-pending', 'activate', 'boot-trial', 'self-test', 'confirm'];

let dir: string;
let pub: string;
let v1: string;
let v2: string;
let baseline: string;
let pty: PtyPair;

before(async () => {
  let key;
  ({ dir, publicKey: pub, key } = firmwareWorkspace('powercut'));
  v1 = await makeImage(dir, key, '1.0.0', 1);
  v2 = await makeImage(dir, key, '2.0.0', 2, { modelSeed: 2, padding: 300_000 });
  pty = await ptyPair(dir, 'pc');
  // A box already running v1, confirmed: the starting point of every cut.
  baseline = join(dir, 'baseline');
  const agent = await startAgent(pty.b, baseline, pub);
  const r = await runAunet(['flash', '--port', pty.a, '--reboot', '--no-progress', v1]);
  assert.equal(r.code, 0, r.stderr);
  await sleep(300);
  await stopAgent(agent);
});

after(() => {
  pty?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function runningVersion(root: string): Promise<{ version: string; slot: string }> {
  const agent = await startAgent(pty.b, root, pub);
  try {
    const r = await runAunet(['device', 'info', '--port', pty.a, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const info = JSON.parse(r.stdout);
    assert.ok(info.running, `box runs nothing after the cut: ${r.stdout}`);
    const image = readFileSync(join(root, 'slots', info.running, 'image.aufw'));
    const img = verifyImage(image, loadPublicKey(pub));
    return { version: img.manifest.version, slot: info.running };
  } finally {
    await stopAgent(agent);
  }
}

for (const point of POINTS) {
  test(`power cut at ${point}: the box comes back running a valid image`, async () => {
    const root = join(dir, `box-${point.replace('@', '-')}`);
    cpSync(baseline, root, { recursive: true });
    const agent = await startAgent(pty.b, root, pub, { AUNET_FAULT: point });
    const flash = await runAunet(['flash', '--port', pty.a, '--reboot', '--no-progress', '--data-timeout', '300', '--timeout', '500', '--retries', '2', v2], { timeoutMs: 30_000 });
    // Boot-time points fire after the host is done; give the reboot a moment.
    const killed = await Promise.race([agent.exited.then(() => true), sleep(5_000).then(() => false)]);
    assert.ok(killed, `the agent never reached ${point} (flash: ${flash.stdout}${flash.stderr})`);
    assert.equal(agent.child.signalCode, 'SIGKILL');
    const after = await runningVersion(root);
    assert.ok(['1.0.0', '2.0.0'].includes(after.version), `running ${after.version}`);
    // Once power is back the update still completes: re-flash if the cut lost it.
    if (after.version !== '2.0.0') {
      const a2 = await startAgent(pty.b, root, pub);
      const r = await runAunet(['flash', '--port', pty.a, '--reboot', '--no-progress', v2], { timeoutMs: 30_000 });
      await sleep(300);
      await stopAgent(a2);
      assert.equal(r.code, 0, r.stderr);
    }
    assert.equal((await runningVersion(root)).version, '2.0.0');
  });
}
