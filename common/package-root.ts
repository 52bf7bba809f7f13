// The package's own files (package.json, the shipped model, the kernel builds,
// the monitor bundle), located from this file's place in the package so that no
// caller counts '../' levels from wherever it happens to live.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PACKAGE_ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * The shipped model, as the config and the flags name it: relative to the
 * package root (host/load/model-loader.ts resolves it there, so the config
 * schema and the docs never hold a path of the building machine).
 */
export const DEFAULT_MODEL = 'models/busi-lite.aunet';

/** Absolute path of a file of the package, from its path relative to the package root. */
export function packageFile(relative: string): string {
  return join(PACKAGE_ROOT, relative);
}

let version: string | undefined;

/** The package's version (package.json), read once. */
export function packageVersion(): string {
  version ??= (JSON.parse(readFileSync(packageFile('package.json'), 'utf8')) as { version: string }).version;
  return version;
}
