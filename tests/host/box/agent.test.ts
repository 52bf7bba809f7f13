// The agent's policies, in-process over an in-memory byte pipe: trial boots
// that fail revert, production mode, input timeout, hardware id, downgrade.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Agent, type AgentOptions } from '../../../host/box/agent.ts';
import { DeviceClient } from '../../../firmware/flasher.ts';
import { assembleImage } from '../../../firmware/image.ts';
import { PacketLink, type ByteStream } from '../../../firmware/link.ts';
import { COMMANDS, DeviceError } from '../../../firmware/protocol.ts';
import { Storage } from '../../../firmware/slots.ts';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');

function image(version: string, securityCounter: number, opts: { hardwareId?: string; good?: boolean; size?: number } = {}): Buffer {
  return Buffer.from(assembleImage(
    {
      version, securityCounter, hardwareId: opts.hardwareId ?? 'aunet-edge-1', build: { date: 'd', tool: 't' },
      sections: { runtime: Buffer.alloc(100, 1), model: Buffer.alloc(opts.size ?? 50_000, securityCounter), config: Buffer.from('{}'), monitor: Buffer.alloc(0) },
      // the fake self-test below passes only when this hash says "good"
      selfTest: { frame: 'golden-v1', outputSha256: (opts.good === false ? 'b' : 'a').repeat(64) },
    },
    privateKey,
  ));
}

function setup(over: Partial<AgentOptions> = {}) {
  const root = mkdtempSync(join(tmpdir(), 'aunet-agent-'));
  const toBox = new PassThrough();
  const toHost = new PassThrough();
  const hostSide: ByteStream = { write: (c) => toBox.write(c), on: (e, l) => toHost.on(e, l), off: (e, l) => toHost.off(e, l) };
  const boxSide: ByteStream = { write: (c) => toHost.write(c), on: (e, l) => toBox.on(e, l), off: (e, l) => toBox.off(e, l) };
  const agent = new Agent({
    storage: new Storage(root),
    publicKey,
    hardwareId: 'aunet-edge-1',
    selfTest: async (img) => ({ ok: img.manifest.selfTest.outputSha256 === 'a'.repeat(64), detail: 'fake self-test' }),
    chunkSize: 1024,
    ...over,
  });
  const boxLink = new PacketLink(boxSide);
  agent.serve(boxLink);
  const client = new DeviceClient(new PacketLink(hostSide), { commandTimeoutMs: 300, dataTimeoutMs: 200 });
  return { root, agent, client, done: () => { agent.close(); rmSync(root, { recursive: true, force: true }); } };
}

async function flashAndBoot(s: ReturnType<typeof setup>, img: Uint8Array) {
  await s.client.flash(img, { activate: true });
  return s.agent.boot();
}

test('a new image whose self-test fails is retried, then reverted after maxTrialBoots', async () => {
  const s = setup({ maxTrialBoots: 3 });
  try {
    await s.agent.boot();
    assert.equal((await flashAndBoot(s, image('1.0.0', 1))).running, 'a');
    const r1 = await flashAndBoot(s, image('2.0.0', 2, { good: false }));
    assert.equal(r1.running, 'a', 'a failing trial must not run');
    assert.equal(r1.trial?.result, 'failed');
    assert.equal((await s.agent.boot()).trial?.result, 'failed');
    const r3 = await s.agent.boot();
    assert.equal(r3.trial?.result, 'reverted');
    assert.equal(r3.running, 'a');
    const info = await s.client.info();
    assert.equal(info.pending, null);
    assert.equal((info.rejected as unknown[]).length, 1);
    assert.equal(info.minSecurityCounter, 1, 'a rejected image must not raise the anti-rollback counter');
  } finally {
    s.done();
  }
});

test('production mode accepts only the flashing commands', async () => {
  const s = setup({ production: true });
  try {
    await s.agent.boot();
    assert.equal((await s.client.info()).mode, 'production');
    await assert.rejects(s.client.command(COMMANDS.READ_STATE), (e: DeviceError) => e.status === 'NOT_ALLOWED');
    await assert.rejects(s.client.command(COMMANDS.ERASE_SLOT, Buffer.from('b')), (e: DeviceError) => e.status === 'NOT_ALLOWED');
    assert.equal((await flashAndBoot(s, image('1.0.0', 1))).running, 'a');
  } finally {
    s.done();
  }
});

test('another hardware id and a downgrade are refused before any data is written', async () => {
  const s = setup();
  try {
    await s.agent.boot();
    await flashAndBoot(s, image('1.0.0', 4));
    await assert.rejects(s.client.flash(image('1.1.0', 5, { hardwareId: 'other' })), (e: DeviceError) => e.status === 'WRONG_HARDWARE' && /other/.test(e.message));
    await assert.rejects(s.client.flash(image('0.9.0', 3)), (e: DeviceError) => e.status === 'DOWNGRADE');
    // A flipped signature byte is refused at BEGIN; a flipped payload byte at END, by its hash.
    const good = image('1.2.0', 5);
    const badSig = Uint8Array.from(good);
    badSig[64 + good.readUInt32LE(8) + 5] ^= 1;
    await assert.rejects(s.client.flash(badSig), (e: DeviceError) => e.status === 'BAD_SIGNATURE');
    const badPayload = Uint8Array.from(good);
    badPayload[badPayload.length - 1] ^= 1;
    await assert.rejects(s.client.flash(badPayload), (e: DeviceError) => e.status === 'HASH_MISMATCH');
    assert.equal((await s.client.info()).running, 'a');
  } finally {
    s.done();
  }
});

test('a silent transfer is suspended by the input timeout and resumes on the next BEGIN', async () => {
  const s = setup({ inputTimeoutMs: 150 });
  try {
    await s.agent.boot();
    const img = image('1.0.0', 1, { size: 200_000 });
    // Start, then stall: the agent must not stay wedged in 'receiving'.
    const head = img.subarray(0, 64 + img.readUInt32LE(8) + 64);
    await s.client.command(COMMANDS.BEGIN, head);
    assert.equal((await s.client.info()).state, 'receiving');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await s.client.info()).state, 'idle');
    const r = await s.client.flash(img, { activate: true });
    assert.equal(r.version, '1.0.0');
  } finally {
    s.done();
  }
});
