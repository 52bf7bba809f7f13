// Image building and reading refuse what they must, clearly: no security
// counter, links in the monitor folder (a system file, a loop), per-box
// settings in an image's configuration; an image names nothing of the machine
// that built it unless asked; `aunet inspect` and `aunet firmware verify` on a
// truncated or garbage monitor tar give a clear error (no stack trace), and
// names carrying terminal escapes are printed escaped.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import tar from 'tar-stream';
import { buildFirmware } from '../../../host/box/build-image.ts';
import { assembleImage, parseImage, type ImageInput } from '../../../firmware/image.ts';
import { loadPrivateKey } from '../../../firmware/keys.ts';
import { PACKAGE_ROOT } from '../../../common/package-root.ts';
import { randomQModel } from '../../../models/random-qmodel.ts';
import { writeModel } from '../../../models/format.ts';
import { firmwareWorkspace } from '../box/helpers-firmware.ts';
import { runAunet } from '../../support/aunet-cli.js';

let dir: string;
let keyFile: string;
let pub: string;
let model: string;
let monitorDir: string;
const base = () => ['firmware', 'build', '--key', keyFile, '--model', model, '--version', '1.0.0', '--out', join(dir, 'out.aufw')];

before(() => {
  const ws = firmwareWorkspace('fwhard');
  dir = ws.dir;
  pub = ws.publicKey;
  keyFile = join(dir, 'keys/private.pem');
  model = join(dir, 'm.aunet');
  writeModel(model, randomQModel({ filters: 1, height: 16, width: 16, channels: 1 }, { seed: 4 }));
  monitorDir = join(dir, 'monitor');
  mkdirSync(monitorDir);
  writeFileSync(join(monitorDir, 'index.html'), '<!doctype html>');
});

after(() => rmSync(dir, { recursive: true, force: true }));

test('firmware build requires --security-counter', async () => {
  const r = await runAunet([...base(), '--monitor', monitorDir]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /--security-counter/);
});

test('links in the monitor folder are refused by name, a loop too, never an internal error', async () => {
  const withLink = join(dir, 'mon-link');
  mkdirSync(join(withLink, 'sub'), { recursive: true });
  writeFileSync(join(withLink, 'index.html'), 'x');
  symlinkSync('/etc/passwd', join(withLink, 'sub', 'passwd'));
  const r1 = await runAunet([...base(), '--security-counter', '1', '--monitor', withLink]);
  assert.equal(r1.code, 1, r1.stderr);
  assert.match(r1.stderr, /is a symbolic link.*\(.*sub\/passwd\): copy the file into the monitor folder/);
  const loop = join(dir, 'mon-loop');
  mkdirSync(loop);
  writeFileSync(join(loop, 'index.html'), 'x');
  symlinkSync(join(loop, 'b'), join(loop, 'a'));
  symlinkSync(join(loop, 'a'), join(loop, 'b'));
  const r2 = await runAunet([...base(), '--security-counter', '1', '--monitor', loop]);
  assert.equal(r2.code, 1, r2.stderr);
  assert.match(r2.stderr, /is a symbolic link.*\(.*mon-loop\/a\)/);
  const empty = join(dir, 'mon-empty');
  mkdirSync(empty);
  await assert.rejects(buildFirmware({ privateKey: loadPrivateKey(keyFile), version: '1.0.0', securityCounter: 1, model, monitorDir: empty }), /no index\.html/);
});

test('an image names no host or build path unless asked; per-box settings stay out of its configuration', async () => {
  const key = loadPrivateKey(keyFile);
  const cfg = join(dir, 'fleet.json');
  writeFileSync(cfg, JSON.stringify({ source: 'phantom:?fps=5', publish: { gates: [1, 4] } }));
  const bytes = Buffer.from(await buildFirmware({ privateKey: key, version: '1.0.0', securityCounter: 1, model, config: cfg, monitorDir }));
  const m = parseImage(bytes).manifest;
  assert.equal(m.build.host, undefined);
  for (const needle of [hostname(), PACKAGE_ROOT, dir]) assert.equal(bytes.includes(Buffer.from(needle)), false, `the image contains ${needle}`);
  const asked = parseImage(await buildFirmware({ privateKey: key, version: '1.0.0', securityCounter: 1, model, monitorDir, recordHost: true })).manifest;
  assert.equal(asked.build.host, hostname());
  for (const [bad, why] of [
    [{ device: 'ward-3' }, /device: a per-box setting/],
    [{ broker: { url: 'mqtt://x:1883', username: 'u', password: 'p' } }, /broker: a per-box setting/],
    [{ model: 'x.aunet' }, /model section is the model/],
    [{ chip: { preset: './my-chip.json' } }, /chip\.preset: .* is a file/],
  ] as const) {
    writeFileSync(cfg, JSON.stringify(bad));
    await assert.rejects(buildFirmware({ privateKey: key, version: '1.0.0', securityCounter: 1, model, config: cfg, monitorDir }), why);
  }
});

/** A tar with one entry whose name carries a terminal escape sequence. */
async function escapeTar(): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => void chunks.push(c as Buffer));
  const done = new Promise<void>((r) => pack.on('end', () => r()));
  pack.entry({ name: 'index.html' }, 'x');
  pack.entry({ name: 'evil\x1b]0;owned\x07\x1b[2J.js' }, 'y');
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

test('inspect and verify: a truncated or garbage monitor tar is a clear error; entry names are escaped', async () => {
  const key = loadPrivateKey(keyFile);
  const good = parseImage(await buildFirmware({ privateKey: key, version: '1.0.0', securityCounter: 1, model, monitorDir }));
  const tarBytes = Buffer.from(good.payload.subarray(good.manifest.sections.at(-1)!.offset));
  const input = (monitor: Uint8Array): ImageInput => ({
    version: '1.0.0', securityCounter: 1, hardwareId: 'aunet-edge-1', build: { date: 'd', tool: 't' },
    runtimes: [{ build: 'simd', bytes: Buffer.alloc(8) }], model: Buffer.alloc(8), config: Buffer.from('{}'), monitor,
    selfTest: { frame: 'golden-v1', outputSha256: 'a'.repeat(64) },
  });
  const cases = { truncated: tarBytes.subarray(0, 700), garbage: Buffer.alloc(4096, 0x37), escaped: await escapeTar() };
  for (const [name, monitor] of Object.entries(cases)) writeFileSync(join(dir, `${name}.aufw`), assembleImage(input(monitor), key));
  const truncated = await runAunet(['inspect', join(dir, 'truncated.aufw')]);
  assert.equal(truncated.code, 1, truncated.stderr);
  assert.match(truncated.stdout, /monitor bundle: DAMAGED — .*truncated or not a tar/);
  assert.doesNotMatch(truncated.stderr, /\n\s+at /, 'a stack trace');
  const garbage = await runAunet(['firmware', 'verify', join(dir, 'garbage.aufw'), '--pubkey', pub]);
  assert.equal(garbage.code, 1, garbage.stderr);
  assert.match(garbage.stderr, /monitor bundle is not a complete tar archive.*\(.*garbage\.aufw\)/);
  const escaped = await runAunet(['inspect', join(dir, 'escaped.aufw')]);
  assert.equal(escaped.stdout.includes('\x1b'), false, 'a raw escape character reached the terminal');
  assert.match(escaped.stdout + escaped.stderr, /evil\\x1b\]0;owned\\x07\\x1b\[2J\.js/);
  const refused = await runAunet(['firmware', 'verify', join(dir, 'escaped.aufw'), '--pubkey', pub]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /control character/);
  assert.equal(refused.stderr.includes('\x1b'), false);
});
