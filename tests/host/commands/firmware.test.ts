// The integrator's commands end to end: keys, build, verify, inspect.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomQModel } from '../../../models/random-qmodel.ts';
import { writeModel } from '../../../models/format.ts';
import { runAunet } from '../../support/aunet-cli.js';
import { OLD_KERNEL_MODULE } from '../kernels/harness.js';

test('keys generate, firmware build, verify and inspect', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'aunet-fwcli-'));
  try {
    const k = await runAunet(['keys', 'generate', '--out', join(dir, 'keys')]);
    assert.equal(k.code, 0, k.stderr);
    const again = await runAunet(['keys', 'generate', '--out', join(dir, 'keys')]);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /refusing to overwrite/);
    await runAunet(['keys', 'generate', '--out', join(dir, 'other')]);
    const model = join(dir, 'm.aunet');
    writeModel(model, randomQModel({ filters: 1, height: 16, width: 16, channels: 1 }, { seed: 3 }));
    writeFileSync(join(dir, 'device.yaml'), 'source: phantom:?fps=5\npublish:\n  threshold: 0.4\n');
    const out = join(dir, 'fw.aufw');
    const b = await runAunet(['firmware', 'build', '--key', join(dir, 'keys/private.pem'), '--model', model, '--config', join(dir, 'device.yaml'), '--version', '1.4.2', '--security-counter', '7', '--out', out]);
    assert.equal(b.code, 0, b.stderr);
    const v = await runAunet(['firmware', 'verify', out, '--pubkey', join(dir, 'keys/public.pem')]);
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout, /OK — version 1\.4\.2, security counter 7/);
    const wrong = await runAunet(['firmware', 'verify', out, '--pubkey', join(dir, 'other/public.pem')]);
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /BAD_SIGNATURE: .*\(.*fw\.aufw\)/);
    const bytes = readFileSync(out);
    bytes[bytes.length - 10] ^= 0x40;
    writeFileSync(join(dir, 'bad.aufw'), bytes);
    const bad = await runAunet(['firmware', 'verify', join(dir, 'bad.aufw'), '--pubkey', join(dir, 'keys/public.pem')]);
    assert.match(bad.stderr, /HASH_MISMATCH: .*\(.*bad\.aufw\)/);
    const down = await runAunet(['firmware', 'verify', out, '--pubkey', join(dir, 'keys/public.pem'), '--min-security-counter', '8']);
    assert.match(down.stderr, /DOWNGRADE/);
    writeFileSync(join(dir, 'bad.yaml'), 'publish:\n  threshold: 3\n');
    const badConfig = await runAunet(['firmware', 'build', '--key', join(dir, 'keys/private.pem'), '--model', model, '--config', join(dir, 'bad.yaml'), '--version', '1.0.0', '--security-counter', '1', '--out', join(dir, 'y.aufw')]);
    assert.match(badConfig.stderr, /invalid config: .*publish\.threshold.*\(.*bad\.yaml\)/);
    // a runtime module built from older sources (one kernel of ten) is refused by name, not at its first missing call
    writeFileSync(join(dir, 'old.wasm'), OLD_KERNEL_MODULE);
    const oldRuntime = await runAunet(['firmware', 'build', '--key', join(dir, 'keys/private.pem'), '--model', model, '--runtime', `simd=${join(dir, 'old.wasm')}`, '--version', '1.0.0', '--security-counter', '1', '--out', join(dir, 'z.aufw')]);
    assert.notEqual(oldRuntime.code, 0);
    assert.match(oldRuntime.stderr, /lacks conv1x1, .*copyBox \(rebuild it with npm run build:wasm\) \(.*old\.wasm\)/);
    const badVersion = await runAunet(['firmware', 'build', '--key', join(dir, 'keys/private.pem'), '--model', model, '--version', 'latest', '--security-counter', '1', '--out', join(dir, 'x.aufw')]);
    assert.match(badVersion.stderr, /"latest" is not MAJOR\.MINOR\.PATCH/);
    const { inspectFirmware } = await import('../../../firmware/inspect.ts');
    const { text, problems } = await inspectFirmware(out);
    assert.deepEqual(problems, []);
    assert.match(text, /version {11}1\.4\.2/);
    assert.match(text, /model .* ok/);
    assert.doesNotMatch(text, /MISMATCH/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
