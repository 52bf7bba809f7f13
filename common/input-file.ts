// Reading a file the user named (a model, an image, a config, a key, a
// certificate, a recording): the one way, so that every unreadable input is the
// same FileError (NO_FILE, exit 1) naming the file, what it was meant to be, and
// why: "not found" for a missing path, the system's reason otherwise.
import { readFileSync, statSync, type Stats } from 'node:fs';
import { FileError } from './errors.js';

function label(what?: string): string {
  return what ? `${what} ` : '';
}

/** Why opening `path` failed, in words ("not found", "permission denied", ...). */
function reason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'not found';
  if (code === 'EACCES' || code === 'EPERM') return 'cannot be read: permission denied';
  if (code === 'ENOTDIR') return 'not found (a part of the path is not a folder)';
  return `cannot be read: ${(e as Error).message}`;
}

/** What `path` is; a FileError (NO_FILE) saying it is not found or cannot be read. */
export function statInput(path: string, what?: string): Stats {
  try {
    return statSync(path);
  } catch (e) {
    throw new FileError(path, `${label(what)}${reason(e)}`, 'NO_FILE');
  }
}

/** What kind of non-regular file a Stats is, in words (for refusals). */
export function fileKind(st: Stats): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * Throws unless `path` is a regular file. Sources read files to their end; a
 * FIFO or a device could block that read forever or never end, so they are
 * refused, naming the file and what it is.
 */
export function checkRegularFile(path: string, what?: string): Stats {
  const st = statInput(path, what);
  if (!st.isFile()) throw new FileError(path, `${label(what)}is ${fileKind(st)}, not a regular file`, 'NO_FILE');
  return st;
}

/** The bytes of `file`; `what` says what it should be, e.g. 'model' -> "model not found (x.aunet)". */
export function readInputFile(file: string, what?: string, options: { regularOnly?: boolean } = {}): Buffer {
  if (options.regularOnly) checkRegularFile(file, what);
  try {
    return readFileSync(file);
  } catch (e) {
    throw new FileError(file, `${label(what)}${reason(e)}`, 'NO_FILE');
  }
}

/** The text of `file` (UTF-8), as readInputFile. */
export function readInputText(file: string, what?: string): string {
  return readInputFile(file, what).toString('utf8');
}

/** The first line of a password file, without its line end (a password kept out of `ps` and of config files). */
export function readPasswordFile(file: string, what: string): string {
  const pw = readInputText(file, what).split(/\r?\n/, 1)[0];
  if (!pw) throw new FileError(file, `${what} is empty: its first line is the password`);
  return pw;
}
