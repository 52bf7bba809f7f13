import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { assembleImage, ImageError, parseImage, verifyImage, section, HEADER_SIZE, type ImageInput } from '../../firmware/image.ts';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const other = generateKeyPairSync('ed25519');

function input(over: Partial<ImageInput> = {}): ImageInput {
  return {
    version: '1.2.3',
    securityCounter: 5,
    hardwareId: 'aunet-edge-1',
    build: { date: '2026-11-27T00:00:00.000Z', tool: 'test' },
    sections: { runtime: Buffer.from('wasm-bytes'), model: Buffer.alloc(300, 7), config: Buffer.from('{"device":"x"}'), monitor: Buffer.alloc(50, 1) },
    selfTest: { frame: 'golden-v1', outputSha256: 'a'.repeat(64) },
    ...over,
  };
}

test('an assembled image verifies and its sections come back intact', () => {
  const bytes = assembleImage(input(), privateKey);
  const img = verifyImage(bytes, publicKey, { hardwareId: 'aunet-edge-1', minSecurityCounter: 5 });
  assert.equal(img.manifest.version, '1.2.3');
  assert.deepEqual(Buffer.from(section(img, 'model')), Buffer.alloc(300, 7));
  assert.equal(Buffer.from(section(img, 'config')).toString(), '{"device":"x"}');
});

test('every single-byte change anywhere in the image is refused', () => {
  const bytes = assembleImage(input(), privateKey);
  for (let i = 0; i < bytes.length; i++) {
    const m = Uint8Array.from(bytes);
    m[i] ^= 1 << (i % 8);
    assert.throws(() => verifyImage(m, publicKey), ImageError, `byte ${i} changed but the image verified`);
  }
});

test('a truncated or padded image is refused with a message about its size', () => {
  const bytes = assembleImage(input(), privateKey);
  for (const n of [0, 10, HEADER_SIZE, HEADER_SIZE + 20, bytes.length - 1]) {
    assert.throws(() => verifyImage(bytes.subarray(0, n), publicKey), ImageError);
  }
  assert.throws(() => parseImage(Buffer.concat([bytes, Buffer.from([0])])), /header describes/);
});

test('wrong key, downgrade and other hardware are refused with their codes', () => {
  const bytes = assembleImage(input(), privateKey);
  assert.throws(() => verifyImage(bytes, other.publicKey), (e: ImageError) => e.code === 'BAD_SIGNATURE');
  assert.throws(() => verifyImage(bytes, publicKey, { hardwareId: 'aunet-edge-1', minSecurityCounter: 6 }), (e: ImageError) => e.code === 'DOWNGRADE' && /below/.test(e.message));
  assert.throws(() => verifyImage(bytes, publicKey, { hardwareId: 'other-box', minSecurityCounter: 0 }), (e: ImageError) => e.code === 'WRONG_HARDWARE' && /other-box/.test(e.message));
});

test('a bad version string never makes an image', () => {
  assert.throws(() => assembleImage(input({ version: 'v1' }), privateKey));
});
