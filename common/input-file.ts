// Reading a file the user named (a model, an image, a config, a key, a
// certificate): the one way, so that every unreadable input is the same
// FileError (NO_FILE, exit 1) naming the file, what it was meant to be, and
// the system's reason.
import { readFileSync } from 'node:fs';
import { FileError } from './errors.js';

/** The bytes of `file`; `what` says what it should be, e.g. 'model' -> "x.aunet: cannot read model: ENOENT: ...". */
export function readInputFile(file: string, what?: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new FileError(file, `cannot read${what ? ` ${what}` : ''}: ${(e as Error).message}`, 'NO_FILE');
  }
}

/** The text of `file` (UTF-8), as readInputFile. */
export function readInputText(file: string, what?: string): string {
  return readInputFile(file, what).toString('utf8');
}
