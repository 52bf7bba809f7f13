// How shipped files (model headers, run records, firmware images) name the files
// they came from: by their path inside the package when they live in it
// ('models/busi-lite.onnx'), else by their file name alone. Never an absolute path:
// the layout of the machine that built a file is no provenance anyone else can
// follow, and it leaks that machine's directories into a shipped artifact.
// The SHA-256 recorded beside the name is what identifies the content.
import { basename, isAbsolute, relative, resolve, sep } from 'node:path';
import { PACKAGE_ROOT } from './package-root.js';

export function provenanceName(path: string): string {
  const abs = resolve(path);
  const rel = relative(PACKAGE_ROOT, abs);
  if (rel && !rel.startsWith('..') && !isAbsolute(rel)) return rel.split(sep).join('/');
  return basename(abs.replace(/[/\\]+$/, ''));
}
