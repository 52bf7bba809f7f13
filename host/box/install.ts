// `aunet device install` (docs/box.md): lays out a box root on a real machine
// — the slots, the public key images must be signed with, the per-box
// settings file — and writes the systemd unit that runs the agent on it. It
// never overwrites what a box already has: an existing settings file is
// validated and kept, an existing key must be the same key (a box's key is
// replaced deliberately, by hand).
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { isAbsolute, join, resolve } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { FileError, UsageError } from '../../common/errors.js';
import { packageFile } from '../../common/package-root.js';
import { BOX_SETTINGS_FILE, loadBoxSettings } from '../../contracts/box-settings.js';
import { loadPublicKey } from '../../firmware/keys.js';
import { Storage } from '../../firmware/slots.js';
import { UNIT_NAME, unitFile } from './systemd.js';

export const INSTALLED_KEY = 'pubkey.pem';

export interface InstallOptions {
  root: string;
  pubkey: string;
  /** the serial device the host flashes through (a USB gadget: /dev/ttyGS0) */
  port: string;
  /** where the unit goes (default /etc/systemd/system) */
  unitDir: string;
  /** device id written into a new settings file */
  device?: string;
  hardwareId?: string;
  baud?: number;
  user?: string;
  /** Type=notify with a watchdog (default: when systemd-notify is installed) */
  notify?: boolean;
}

export interface InstallReport {
  root: string;
  unit: string;
  settings: { file: string; written: boolean };
  pubkey: { file: string; written: boolean };
  notify: boolean;
  execStart: string[];
}

function hasSystemdNotify(): boolean {
  try {
    execFileSync('systemd-notify', ['--help'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A new settings file: the device id and the embedded broker, with the other settings named in comments. */
function settingsTemplate(device: string): string {
  return [
    '# Per-box settings of this aunet box (docs/box.md, "Per-box settings").',
    '# Never part of a firmware image: one image serves a fleet, this file is this box.',
    toYaml({ device, broker: { url: 'embedded', port: 1883, httpPort: 8080 } }).trimEnd(),
    '# operators of the embedded broker: aunet users add NAME --store <root>/users.json (broker.userStore names another)',
    '# broker.url: mqtts://... with broker.username and broker.passwordFile for a site broker',
    '# source: the capture device, e.g. v4l2:/dev/video0 (default: the image\'s source)',
    '',
  ].join('\n');
}

export function installBox(o: InstallOptions): InstallReport {
  const root = resolve(o.root);
  if (!isAbsolute(o.port)) throw new UsageError(`--port ${o.port}: the serial device must be an absolute path (e.g. /dev/ttyGS0)`);
  loadPublicKey(o.pubkey); // refuse a file that is not an Ed25519 public key before writing anything
  mkdirSync(root, { recursive: true });
  new Storage(root); // the slot folders

  const key = join(root, INSTALLED_KEY);
  const keyBytes = readFileSync(o.pubkey);
  let keyWritten = false;
  if (existsSync(key)) {
    if (!readFileSync(key).equals(keyBytes)) throw new FileError(key, 'this box already trusts another public key', 'EXISTS', { hint: 'replacing a box\'s key is deliberate: remove the installed key first' });
  } else {
    copyFileSync(o.pubkey, key);
    keyWritten = true;
  }

  const settingsFile = join(root, BOX_SETTINGS_FILE);
  const settingsWritten = !existsSync(settingsFile);
  if (settingsWritten) writeFileSync(settingsFile, settingsTemplate(o.device ?? 'aunet-0'), { mode: 0o600 });
  loadBoxSettings(root); // a kept file must still be valid; a written one is checked by the same schema

  const notify = o.notify ?? hasSystemdNotify();
  const execStart = [
    process.execPath,
    packageFile('bin/aunet.js'),
    'device', 'agent',
    '--root', root,
    '--pubkey', key,
    '--port', o.port,
    ...(o.baud ? ['--baud', String(o.baud)] : []),
    ...(o.hardwareId ? ['--hardware-id', o.hardwareId] : []),
  ];
  mkdirSync(o.unitDir, { recursive: true });
  const unit = join(o.unitDir, UNIT_NAME);
  writeFileSync(unit, unitFile({ execStart, root, notify, user: o.user }));
  return { root, unit, settings: { file: settingsFile, written: settingsWritten }, pubkey: { file: key, written: keyWritten }, notify, execStart };
}
