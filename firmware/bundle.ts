// The monitor section of a firmware image: the monitor's static files as a
// plain POSIX tar (tar-stream), so integrators can inspect it with `tar tf`.
// Packing takes regular files and folders only (a link could pull a system
// file into a signed image); reading checks every entry before anything is
// written (docs/firmware-format.md, "Monitor bundle"): regular files under
// relative names without `..`, control characters or links, sizes bounded,
// and the archive's end marker present, so a truncated tar is not taken for a
// shorter one.
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import tar from 'tar-stream';
import { AunetError, FileError } from '../common/errors.js';
import { printable } from '../common/printable.js';

export const MAX_BUNDLE_FILES = 1000;
export const MAX_BUNDLE_BYTES = 64 << 20;
const BLOCK = 512;

/** A bundle that cannot be read or would not extract safely; the message names the entry. */
export class BundleError extends AunetError {
  constructor(message: string) {
    super('BAD_FILE', message);
    this.name = 'BundleError';
  }
}

/**
 * Pack every regular file under `dir` (sorted, fixed mtime: the same tree gives
 * the same bytes). A symbolic link or any other non-regular entry is refused.
 */
export async function packDirectory(dir: string): Promise<Uint8Array> {
  let st;
  try {
    st = lstatSync(dir);
  } catch {
    throw new FileError(dir, 'monitor folder not found (run `npm run build:monitor`, or pass --monitor DIR)', 'NO_FILE');
  }
  if (!st.isDirectory()) throw new FileError(dir, 'is not a folder (--monitor takes the folder of the monitor files)', 'UNSUPPORTED');
  const files = walk(dir, dir);
  if (!files.some((f) => relative(dir, f) === 'index.html')) throw new FileError(dir, 'has no index.html: not a monitor folder (run `npm run build:monitor`)', 'EMPTY');
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => void chunks.push(c as Buffer));
  const ended = new Promise<void>((resolve, reject) => {
    pack.on('end', resolve);
    pack.on('error', reject);
  });
  for (const file of files) {
    const name = relative(dir, file).split('\\').join('/');
    checkName(name, (m) => new FileError(file, m, 'UNSUPPORTED', { hint: 'rename the file in the monitor folder' }));
    const body = readFileSync(file);
    await new Promise<void>((resolve, reject) =>
      pack.entry({ name, size: body.length, mtime: new Date(0), mode: 0o644 }, body, (err) => (err ? reject(err) : resolve())),
    );
  }
  pack.finalize();
  await ended;
  return Buffer.concat(chunks);
}

export interface BundleEntry {
  name: string;
  data: Uint8Array;
}

/** Every file of a bundle, checked (see the header); throws BundleError naming the problem. */
export async function readBundle(bytes: Uint8Array, limits = { files: MAX_BUNDLE_FILES, bytes: MAX_BUNDLE_BYTES }): Promise<BundleEntry[]> {
  if (bytes.length < 2 * BLOCK || bytes.length % BLOCK !== 0 || bytes.subarray(bytes.length - 2 * BLOCK).some((b) => b !== 0)) {
    throw new BundleError(`monitor bundle is not a complete tar archive (${bytes.length} bytes, no end-of-archive marker): truncated or not a tar`);
  }
  const extract = tar.extract();
  const out: BundleEntry[] = [];
  const names = new Set<string>();
  let total = 0;
  const done = new Promise<void>((resolve, reject) => {
    const fail = (e: Error) => {
      extract.destroy();
      reject(e instanceof BundleError ? e : new BundleError(`monitor bundle is not a valid tar archive: ${e.message}`));
    };
    extract.on('entry', (header, stream, next) => {
      const shown = `"${printable(header.name)}"`;
      const parts: Buffer[] = [];
      stream.on('error', fail);
      try {
        if (header.type !== 'file' && header.type !== 'directory') throw new BundleError(`monitor bundle entry ${shown} is a ${header.type ?? 'special entry'}; only files and folders may be extracted`);
        checkName(header.name.replace(/\/$/, ''), (m) => new BundleError(`monitor bundle entry ${shown} ${m}`));
        if (names.has(header.name)) throw new BundleError(`monitor bundle entry ${shown} appears twice`);
        names.add(header.name);
        if (out.length >= limits.files) throw new BundleError(`monitor bundle has more than ${limits.files} files`);
        total += header.size ?? 0;
        if (total > limits.bytes) throw new BundleError(`monitor bundle holds more than ${limits.bytes} bytes`);
      } catch (e) {
        return fail(e as Error);
      }
      stream.on('data', (c: unknown) => void parts.push(c as Buffer));
      stream.on('end', () => {
        if (header.type === 'file') out.push({ name: header.name, data: Buffer.concat(parts) });
        next();
      });
    });
    extract.on('finish', resolve);
    extract.on('error', fail);
  });
  extract.end(Buffer.from(bytes));
  await done;
  return out;
}

function checkName(name: string, error: (problem: string) => Error): void {
  if (name === '' || name.length > 255) throw error('has an empty or over-long name');
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f-\x9f\\]/.test(name)) throw error('has a control character or backslash in its name');
  if (name.startsWith('/')) throw error('is an absolute path');
  if (name.split('/').some((p) => p === '..' || p === '.' || p === '')) throw error('has a "..", "." or empty path segment');
}

function walk(root: string, dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    const st = lstatSync(p);
    if (st.isSymbolicLink()) throw new FileError(p, 'is a symbolic link; the monitor bundle takes only regular files and folders', 'UNSUPPORTED', { hint: 'copy the file into the monitor folder instead of linking it' });
    if (st.isDirectory()) out.push(...walk(root, p));
    else if (st.isFile()) out.push(p);
    else throw new FileError(p, 'is not a regular file (a device, socket or pipe); the monitor bundle takes only regular files and folders', 'UNSUPPORTED', { hint: 'remove it from the monitor folder' });
  }
  return out;
}
