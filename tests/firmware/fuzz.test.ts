// 10 000 mutated images and 10 000 mutated serial frames through the parsers and the agent:
// no crash, no hang, every outcome a clean refusal or a valid result.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assembleImage, ImageError, verifyImage } from '../../firmware/image.ts';
import { SlipDecoder, slipEncode } from '../../firmware/slip.ts';
import { decodePacket, encodePacket, REQUEST } from '../../firmware/packet.ts';
import { Agent } from '../../host/box/agent.ts';
import { Storage } from '../../firmware/slots.ts';
import { COMMANDS } from '../../firmware/protocol.ts';
import { prng } from '../../models/random-model.ts';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');


function mutate(src: Uint8Array, r: () => number): Uint8Array {
  let b = Uint8Array.from(src);
  const kind = Math.floor(r() * 4);
  const n = 1 + Math.floor(r() * 4);
  for (let k = 0; k < n; k++) {
    const i = Math.floor(r() * b.length);
    if (kind === 0) b[i] ^= 1 << Math.floor(r() * 8);
    else if (kind === 1) b[i] = Math.floor(r() * 256);
    else if (kind === 2) b = b.subarray(0, i);
    else b = Uint8Array.from([...b.subarray(0, i), ...Array.from({ length: 1 + Math.floor(r() * 8) }, () => Math.floor(r() * 256)), ...b.subarray(i)]);
    if (b.length === 0) break;
  }
  return b;
}

test('10 000 mutated images are refused cleanly', () => {
  const image = assembleImage(
    {
      version: '2.0.0', securityCounter: 1, hardwareId: 'aunet-edge-1', build: { date: 'd', tool: 't' },
      sections: { runtime: Buffer.alloc(64, 1), model: Buffer.alloc(200, 2), config: Buffer.from('{}'), monitor: Buffer.alloc(10) },
      selfTest: { frame: 'golden-v1', outputSha256: 'b'.repeat(64) },
    },
    privateKey,
  );
  const r = prng(42);
  let refused = 0;
  for (let i = 0; i < 10_000; i++) {
    const m = mutate(image, r);
    try {
      verifyImage(m, publicKey);
      assert.deepEqual(Buffer.from(m), Buffer.from(image), 'a changed image verified');
    } catch (e) {
      assert.ok(e instanceof ImageError, `mutation ${i} threw ${(e as Error).name}: ${(e as Error).message}`);
      refused++;
    }
  }
  assert.ok(refused > 9_900);
});

test('10 000 mutated serial frames: the decoder and the agent never crash', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'aunet-fuzz-'));
  try {
    const agent = new Agent({ storage: new Storage(dir), publicKey, hardwareId: 'aunet-edge-1', selfTest: async () => ({ ok: true, detail: '' }) });
    await agent.boot();
    const r = prng(7);
    const seeds = [COMMANDS.HELLO, COMMANDS.STATUS, COMMANDS.BEGIN, COMMANDS.DATA, COMMANDS.END, COMMANDS.ACTIVATE, COMMANDS.ERASE_SLOT, 0x55].map((command, seq) =>
      encodePacket({ direction: REQUEST, command, seq, payload: Uint8Array.from({ length: 8 + seq * 5 }, (_, i) => (i * 37) & 255) }),
    );
    const decoder = new SlipDecoder();
    let handled = 0;
    for (let i = 0; i < 10_000; i++) {
      const frame = mutate(seeds[i % seeds.length], r);
      // Raw mutated bytes through the SLIP decoder, and valid-CRC packets with mutated payloads through the agent.
      for (const f of decoder.push(slipEncode(frame))) decodePacket(f);
      decoder.push(frame);
      const p = decodePacket(frame) ?? { direction: REQUEST, command: frame[1] ?? 0, seq: i, payload: frame.subarray(6) };
      if (p.command === COMMANDS.REBOOT) continue;
      const res = await agent.handle({ ...p, direction: REQUEST } as never);
      assert.ok(res && res.payload.length >= 1, 'every request gets a status');
      handled++;
    }
    assert.equal(handled > 9_000, true);
    agent.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
