// A human-readable description of a firmware image (`aunet inspect FILE.aufw`).
import { readFileSync } from 'node:fs';
import { FileError } from '../common/errors.js';
import { listBundle } from './bundle.js';
import { ImageError, parseImage, section, sha256 } from './image.js';

export async function inspectFirmware(path: string): Promise<string> {
  const bytes = readFileSync(path);
  let img;
  try {
    img = parseImage(bytes);
  } catch (e) {
    if (e instanceof ImageError) throw new FileError(path, e.message, e.code);
    throw e;
  }
  const m = img.manifest;
  const payloadOk = sha256(img.payload) === img.payloadSha256;
  const lines = [
    `${path}: aunet firmware image, format 1, ${bytes.length} bytes`,
    `  version           ${m.version}`,
    `  security counter  ${m.securityCounter}`,
    `  hardware id       ${m.hardwareId}`,
    `  built             ${m.build.date} by ${m.build.tool}${m.build.host ? ` on ${m.build.host}` : ''}${m.build.commit ? ` (commit ${m.build.commit})` : ''}`,
    `  image sha256      ${img.sha256}`,
    `  payload sha256    ${img.payloadSha256} ${payloadOk ? '(matches)' : '(DOES NOT MATCH)'}`,
    `  self-test         ${m.selfTest.frame} -> ${m.selfTest.outputSha256}`,
    '  sections:',
  ];
  for (const s of m.sections) {
    const ok = sha256(img.payload.subarray(s.offset, s.offset + s.size)) === s.sha256;
    lines.push(`    ${s.name.padEnd(8)} ${String(s.size).padStart(9)} B  sha256 ${s.sha256.slice(0, 16)}… ${ok ? 'ok' : 'MISMATCH'}`);
  }
  const files = await listBundle(section(img, 'monitor')).catch(() => []);
  lines.push(`  monitor bundle: ${files.length} files${files.length ? ` (${files.map((f) => f.name).slice(0, 6).join(', ')}${files.length > 6 ? ', …' : ''})` : ''}`);
  lines.push('  signature: not checked here; run `aunet firmware verify FILE --pubkey KEY`');
  return lines.join('\n');
}
