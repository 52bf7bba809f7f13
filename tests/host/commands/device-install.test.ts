// `aunet device install` as docs/box.md runs it: the root layout, the public key, the per-box
// settings file and the systemd unit (checked by systemd-analyze verify), and the agent started
// exactly as the unit's ExecStart starts it, serving a real pty and saying it holds no image.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { runAunet } from '../../support/aunet-cli.js';
import { firmwareWorkspace, ptyPair } from '../box/helpers-firmware.ts';
import { freePort } from '../publish/mosquitto.ts';
import { generateKeys } from '../../../firmware/keys.ts';

const { dir, publicKey } = firmwareWorkspace('install');
after(() => rmSync(dir, { recursive: true, force: true }));

/** ExecStart= of a unit, split into words (the unit quotes only what needs it: systemd.ts) */
function execStart(unit: string): string[] {
  const line = unit.split('\n').find((l) => l.startsWith('ExecStart='))!;
  return [...line.slice('ExecStart='.length).matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)].map((m) => (m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]));
}

test('install lays out the root, copies the key, writes settings and a unit systemd-analyze accepts; a second run keeps them', async () => {
  const root = join(dir, 'root-a');
  const units = join(dir, 'units-a');
  const r = await runAunet(['device', 'install', '--root', root, '--pubkey', publicKey, '--port', '/dev/ttyGS0', '--unit-dir', units, '--device', 'box-7']);
  assert.equal(r.code, 0, r.stderr);
  for (const f of ['slots/a', 'slots/b', 'pubkey.pem', 'settings.yaml']) assert.ok(existsSync(join(root, f)), f);
  assert.deepEqual(readFileSync(join(root, 'pubkey.pem')), readFileSync(publicKey));
  const settings = parseYaml(readFileSync(join(root, 'settings.yaml'), 'utf8')) as { device: string; broker: { url: string } };
  assert.equal(settings.device, 'box-7');
  assert.equal(settings.broker.url, 'embedded');
  const unitFile = join(units, 'aunet-agent.service');
  const unit = readFileSync(unitFile, 'utf8');
  assert.match(unit, /^Restart=always$/m);
  assert.match(unit, /^Type=notify$/m, 'systemd-notify is installed: the watchdog is fed');
  assert.match(unit, /^NotifyAccess=all$/m);
  assert.deepEqual(execStart(unit).slice(2), ['device', 'agent', '--root', root, '--pubkey', join(root, 'pubkey.pem'), '--port', '/dev/ttyGS0']);
  // systemd's own check of the unit (the ExecStart binary must exist, every setting must parse)
  const v = await promisify(execFile)('systemd-analyze', ['verify', unitFile]).then(() => ({ code: 0, stderr: '' }), (e: { code: number; stderr: string }) => e);
  assert.equal(v.code, 0, v.stderr);

  writeFileSync(join(root, 'settings.yaml'), 'device: box-7\nbroker: { url: embedded, port: 1999 }\n');
  const again = await runAunet(['device', 'install', '--root', root, '--pubkey', publicKey, '--port', '/dev/ttyGS0', '--unit-dir', units, '--no-notify']);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /settings .*: kept/);
  assert.match(readFileSync(join(root, 'settings.yaml'), 'utf8'), /port: 1999/);
  assert.match(readFileSync(unitFile, 'utf8'), /^Type=simple$/m);
  assert.doesNotMatch(readFileSync(unitFile, 'utf8'), /WatchdogSec/);
});

test('install refuses another key over the installed one, a settings file that does not validate, a relative port', async () => {
  const root = join(dir, 'root-b');
  const units = join(dir, 'units-b');
  assert.equal((await runAunet(['device', 'install', '--root', root, '--pubkey', publicKey, '--port', '/dev/ttyGS0', '--unit-dir', units])).code, 0);
  const other = generateKeys(join(dir, 'other-keys'));
  const k = await runAunet(['device', 'install', '--root', root, '--pubkey', other.publicPath, '--port', '/dev/ttyGS0', '--unit-dir', units]);
  assert.equal(k.code, 1);
  assert.match(k.stderr, /already trusts another public key/);
  writeFileSync(join(root, 'settings.yaml'), 'device: box 7\nmodel: x.aunet\n');
  const s = await runAunet(['device', 'install', '--root', root, '--pubkey', publicKey, '--port', '/dev/ttyGS0', '--unit-dir', units]);
  assert.equal(s.code, 1);
  assert.match(s.stderr, /invalid box settings: .*\(.*settings\.yaml\): fix the field in the box.s settings\.yaml/);
  const p = await runAunet(['device', 'install', '--root', root, '--pubkey', publicKey, '--port', 'ttyGS0', '--unit-dir', units]);
  assert.equal(p.code, 2);
  assert.match(p.stderr, /absolute path/);
});

test("the agent started as the unit's ExecStart serves its port, says it holds no image, and stops cleanly on SIGTERM", async () => {
  const pty = await ptyPair(dir, 'install');
  const root = join(dir, 'root-c');
  const units = join(dir, 'units-c');
  const [port, httpPort] = [await freePort(), await freePort()];
  assert.equal((await runAunet(['device', 'install', '--root', root, '--pubkey', publicKey, '--port', pty.b, '--unit-dir', units])).code, 0);
  writeFileSync(join(root, 'settings.yaml'), `device: box-c\nbroker: { url: embedded, port: ${port}, httpPort: ${httpPort} }\n`);
  const [cmd, ...args] = execStart(readFileSync(join(units, 'aunet-agent.service'), 'utf8'));
  const agent = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  agent.stderr.setEncoding('utf8').on('data', (s: string) => (log += s));
  const exited = new Promise<number | null>((resolve) => agent.on('exit', resolve));
  try {
    for (let i = 0; i < 300 && !/agent ready/.test(log); i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(log, /agent ready/, log);
    assert.match(log, /no image to run: waiting for a flash/);
    const info = await runAunet(['device', 'info', '--port', pty.a, '--json']);
    assert.equal(info.code, 0, info.stderr);
    const i = JSON.parse(info.stdout) as { mode: string; pipeline: { state: string; reason: string } };
    assert.equal(i.mode, 'production');
    assert.equal(i.pipeline.state, 'no-image');
    assert.match(i.pipeline.reason, /no image has been flashed/);
    agent.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.match(log, /agent stopped/);
  } finally {
    agent.kill('SIGKILL');
    pty.close();
  }
});
