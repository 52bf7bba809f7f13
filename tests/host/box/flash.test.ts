// Flashing over real pseudo-terminal pairs: a full flash and activation, a noisy line,
// and a host killed mid-transfer that resumes from the box's chunk journal.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, readFileSync, existsSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { loadPublicKey } from '../../../firmware/keys.ts';
import { verifyImage } from '../../../firmware/image.ts';
import { boxRoot, firmwareWorkspace, makeImage, noisyWire, ptyPair, startAgent, stopAgent, type PtyPair } from './helpers-firmware.ts';
import { CLI, runAunet } from '../../support/aunet-cli.js';
import { setTimeout as sleep } from 'node:timers/promises';

let dir: string;
let pub: string;
let v1: string;
let v2: string;
let big: string;
const cleanups: (() => unknown)[] = [];
/** per-box settings: the embedded broker and page on any free ports */
const ANY_PORTS = { device: 'flash-box', broker: { port: 0, httpPort: 0 } };

before(async () => {
  let key;
  ({ dir, publicKey: pub, key } = firmwareWorkspace('flash'));
  v1 = await makeImage(dir, key, '1.0.0', 1);
  v2 = await makeImage(dir, key, '2.0.0', 2, { modelSeed: 2 });
  big = await makeImage(dir, key, '3.0.0', 3, { modelSeed: 3, padding: 2_000_000 });
});

after(async () => {
  for (const c of cleanups.reverse()) await c();
  rmSync(dir, { recursive: true, force: true });
});

async function info(port: string): Promise<Record<string, any>> {
  const r = await runAunet(['device', 'info', '--port', port, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

/** Wait until the box runs `version`, confirmed (its trial passed the self-test and a healthy spell). */
async function waitRunning(port: string, version: string): Promise<Record<string, any>> {
  let last: Record<string, any> = {};
  for (let i = 0; i < 120; i++) {
    last = await info(port);
    if (last.firmware?.version === version && last.firmware.state === 'confirmed') return last;
    await sleep(250);
  }
  assert.fail(`box never ran ${version}: ${JSON.stringify(last)}`);
}

function slotImageVerifies(root: string, slot: string): boolean {
  const p = join(root, 'slots', slot, 'image.aufw');
  if (!existsSync(p)) return false;
  verifyImage(readFileSync(p), loadPublicKey(pub));
  return true;
}

test('a box whose storage stalls past the DATA retries still answers STATUS, and the flash completes', async () => {
  // the agent blocks 10 s in its second journal sync (an fsync on a loaded disk): 8 DATA timeouts of
  // 1 s pass without an acknowledgement; the flasher asks STATUS before giving up on the chunk
  const pty: PtyPair = await ptyPair(dir, 'stall');
  cleanups.push(() => pty.close());
  const root = boxRoot(dir, 'box-stall', ANY_PORTS);
  const agent = await startAgent(pty.b, root, pub, { AUNET_FAULT: 'journal@2+10000' });
  cleanups.push(() => stopAgent(agent));
  const r = await runAunet(['flash', '--port', pty.a, '--no-progress', v1]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /version 1\.0\.0 into slot a/);
  assert.ok(slotImageVerifies(root, 'a'));
});

test('full flash, activation and trial boot confirmed after the self-test', async () => {
  const pty: PtyPair = await ptyPair(dir, 'full');
  cleanups.push(() => pty.close());
  const root = boxRoot(dir, 'box-full', ANY_PORTS);
  const agent = await startAgent(pty.b, root, pub);
  cleanups.push(() => stopAgent(agent));
  const r = await runAunet(['flash', '--port', pty.a, '--reboot', '--no-progress', v1]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /version 1\.0\.0 into slot a/);
  const i1 = await waitRunning(pty.a, '1.0.0');
  assert.equal(i1.active, 'a');
  assert.equal(i1.slots.a.state, 'confirmed');
  assert.equal(i1.minSecurityCounter, 1);
  // The second image goes to the inactive slot only.
  const before = readFileSync(join(root, 'slots/a/image.aufw'));
  const r2 = await runAunet(['flash', '--port', pty.a, '--reboot', '--no-progress', v2]);
  assert.equal(r2.code, 0, r2.stderr);
  assert.match(r2.stdout, /into slot b/);
  const i2 = await waitRunning(pty.a, '2.0.0');
  assert.equal(i2.active, 'b');
  assert.deepEqual(readFileSync(join(root, 'slots/a/image.aufw')), before, 'the running slot was written during the update');
  assert.ok(slotImageVerifies(root, 'b'));
  // A downgrade is refused before any data moves.
  const r3 = await runAunet(['flash', '--port', pty.a, '--no-progress', v1]);
  assert.notEqual(r3.code, 0);
  assert.match(r3.stderr, /DOWNGRADE/);
  await stopAgent(agent);
});

test('line noise costs retransmissions, never a corrupt slot', async () => {
  const host = await ptyPair(dir, 'noise-host');
  const box = await ptyPair(dir, 'noise-box');
  cleanups.push(() => host.close(), () => box.close());
  const wire = await noisyWire(host.b, box.a, { flip: 2e-5, drop: 0.02, seed: 9 });
  cleanups.push(() => wire.close());
  const root = boxRoot(dir, 'box-noise', ANY_PORTS);
  const agent = await startAgent(box.b, root, pub);
  cleanups.push(() => stopAgent(agent));
  const r = await runAunet(['flash', '--port', host.a, '--reboot', '--no-progress', '--data-timeout', '300', v2], { timeoutMs: 90_000 });
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const resent = Number(/(\d+) retransmitted/.exec(r.stdout)?.[1]);
  assert.ok(wire.stats.flipped + wire.stats.dropped > 0, 'the wire injected no noise');
  assert.ok(resent > 0, `noise (${JSON.stringify(wire.stats)}) cost no retransmission: ${r.stdout}`);
  const i = await waitRunning(host.a, '2.0.0');
  assert.ok(slotImageVerifies(root, i.running));
  await stopAgent(agent);
  await wire.close();
});

test('a host killed mid-transfer resumes where the box journal stopped', async () => {
  const pty = await ptyPair(dir, 'resume');
  cleanups.push(() => pty.close());
  const root = boxRoot(dir, 'box-resume', ANY_PORTS);
  const agent = await startAgent(pty.b, root, pub);
  cleanups.push(() => stopAgent(agent));
  const host = spawn(process.execPath, [CLI, 'flash', '--port', pty.a, '--no-progress', big], { stdio: 'ignore' });
  const journal = join(root, 'slots/a/journal.json');
  let durable = 0;
  for (let i = 0; i < 2000 && durable < 32; i++) {
    await sleep(5);
    try {
      durable = JSON.parse(readFileSync(journal, 'utf8')).durable;
    } catch {
      /* not written yet, or being replaced */
    }
  }
  host.kill('SIGKILL');
  await new Promise((r) => host.on('exit', r));
  assert.ok(durable >= 32, `transfer never got going (journal ${durable})`);
  const r = await runAunet(['flash', '--port', pty.a, '--reboot', '--no-progress', big], { timeoutMs: 90_000 });
  assert.equal(r.code, 0, r.stderr);
  const resumed = Number(/resumed at chunk (\d+)/.exec(r.stdout)?.[1]);
  assert.ok(resumed >= 32, `second run did not resume: ${r.stdout}`);
  const chunks = Number(/(\d+) chunks/.exec(r.stdout)?.[1]);
  const sent = Number(/(\d+) data frames sent/.exec(r.stdout)?.[1]);
  assert.ok(sent <= chunks - resumed + 16, `resumed run re-sent ${sent} of ${chunks} chunks`);
  const i = await waitRunning(pty.a, '3.0.0');
  assert.ok(slotImageVerifies(root, i.running));
  await stopAgent(agent);
});
