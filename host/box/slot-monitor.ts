// A slot's monitor bundle, extracted for the monitor's HTTP server to serve:
// ROOT/slots/<slot>/monitor/, written only from entries readBundle has
// checked (relative names, no `..`, no links, sizes bounded), into a fresh
// folder that replaces the old one by rename, and marked with the image's
// SHA-256 so an image already extracted is not extracted again.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { readBundle } from '../../firmware/bundle.js';
import { section, type ParsedImage } from '../../firmware/image.js';
import type { SlotName, Storage } from '../../firmware/slots.js';

const MARK = '.image-sha256';

/** Extract (if needed) and return the folder to serve. Throws BundleError for a bundle that is not safe. */
export async function extractMonitor(storage: Storage, slot: SlotName, img: ParsedImage): Promise<string> {
  const dir = join(storage.slotDir(slot), 'monitor');
  if (existsSync(join(dir, MARK)) && readFileSync(join(dir, MARK), 'utf8') === img.sha256) return dir;
  const entries = await readBundle(section(img, 'monitor'));
  const tmp = `${dir}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  for (const e of entries) {
    const file = join(tmp, e.name);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, e.data, { flag: 'wx', mode: 0o644 });
  }
  writeFileSync(join(tmp, MARK), img.sha256);
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return dir;
}
