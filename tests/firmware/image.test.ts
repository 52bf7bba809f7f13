import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { assembleImage, ImageError, parseImage, verifyImage, section, HEADER_SIZE, MAX_MANIFEST, type ImageInput } from '../../firmware/image.ts';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const other = generateKeyPairSync('ed25519');

function input(over: Partial<ImageInput> = {}): ImageInput {
  return {
    version: '1.2.3',
    securityCounter: 5,
    hardwareId: 'aunet-edge-1',
    build: { date: '2026-11-27T00:00:00.000Z', tool: 'test' },
    runtimes: [{ build: 'simd', bytes: Buffer.from('wasm-bytes') }, { build: 'threads', bytes: Buffer.from('threads-wasm') }],
    model: Buffer.alloc(300, 7),
    config: Buffer.from('{"device":"x"}'),
    monitor: Buffer.alloc(50, 1),
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

test('the manifest lists each runtime build with its section and needs; a wrong list is refused', () => {
  const bytes = Buffer.from(assembleImage(input(), privateKey));
  const img = verifyImage(bytes, publicKey);
  assert.deepEqual(img.manifest.runtimes.map((r) => [r.build, r.section, r.needs.join('+')]), [
    ['simd', 'runtime-simd', 'wasm-simd'],
    ['threads', 'runtime-threads', 'wasm-simd+shared-memory+worker-threads'],
  ]);
  assert.equal(Buffer.from(section(img, 'runtime-threads')).toString(), 'threads-wasm');
  assert.deepEqual(img.manifest.sections.map((s) => s.name), ['runtime-simd', 'runtime-threads', 'model', 'config', 'monitor']);
  // A manifest edited by hand (and signed again) must still describe its sections truthfully.
  const edit = (f: (m: Record<string, any>) => void) => {
    const m = JSON.parse(Buffer.from(bytes.subarray(HEADER_SIZE, HEADER_SIZE + bytes.readUInt32LE(8))).toString());
    f(m);
    const mb = Buffer.from(JSON.stringify(m));
    const header = Buffer.from(bytes.subarray(0, HEADER_SIZE));
    header.writeUInt32LE(mb.length, 8);
    return Buffer.concat([header, mb, Buffer.alloc(64), img.payload]);
  };
  assert.throws(() => parseImage(edit((m) => (m.runtimes[1].needs = ['wasm-simd']))), /threads" needs \[/);
  assert.throws(() => parseImage(edit((m) => (m.runtimes[1].build = 'simd'))), /twice/);
  assert.throws(() => parseImage(edit((m) => (m.runtimes = []))), /at least one runtime/);
  assert.throws(() => parseImage(edit((m) => m.sections.reverse())), /section 0 is "monitor", expected "runtime-simd"/);
});

test('an SBOM and a downgrade permission are signed into the manifest, up to the 1 MiB manifest limit', () => {
  const sbom = { bomFormat: 'CycloneDX', components: Array.from({ length: 2000 }, (_, i) => ({ name: `pkg-${i}`, version: '1.0.0', purl: `pkg:npm/pkg-${i}@1.0.0` })) };
  const bytes = Buffer.from(assembleImage(input({ sbom, allowDowngrade: true }), privateKey));
  const img = verifyImage(bytes, publicKey);
  assert.ok(bytes.readUInt32LE(8) > 64 * 1024, 'a manifest far over one serial frame');
  assert.deepEqual(img.manifest.sbom, sbom);
  assert.equal(img.manifest.allowDowngrade, true);
  const huge = { bomFormat: 'CycloneDX', blob: 'x'.repeat(MAX_MANIFEST) };
  assert.throws(() => assembleImage(input({ sbom: huge }), privateKey), /over the format's 1048576/);
});
