// A human-readable description of a firmware image (`aunet inspect FILE.aufw`).
// The file is not trusted: every string it carries is printed through
// printable() (no terminal escapes), and a damaged part (a hash that does not
// match, a monitor bundle that is truncated or not a tar) is named in the text
// and in `problems`, which the command turns into exit status 1.
import { FileError } from '../common/errors.js';
import { readInputFile } from '../common/input-file.js';
import { printable } from '../common/printable.js';
import { readBundle } from './bundle.js';
import { FORMAT_VERSION, ImageError, parseImage, section, sha256 } from './image.js';

export interface FirmwareDescription {
  text: string;
  /** what is damaged, empty when nothing is */
  problems: string[];
}

export async function inspectFirmware(path: string): Promise<FirmwareDescription> {
  const bytes = readInputFile(path, 'firmware image');
  let img;
  try {
    img = parseImage(bytes);
  } catch (e) {
    if (e instanceof ImageError) throw new FileError(path, printable(e.message), e.code);
    throw e;
  }
  const m = img.manifest;
  const problems: string[] = [];
  const payloadOk = sha256(img.payload) === img.payloadSha256;
  if (!payloadOk) problems.push('payload SHA-256 does not match the header');
  const b = m.build;
  const lines = [
    `${printable(path)}: aunet firmware image, format ${FORMAT_VERSION}, ${bytes.length} bytes`,
    `  version           ${m.version}${m.allowDowngrade ? ' (may replace a newer version at the same security counter)' : ''}`,
    `  security counter  ${m.securityCounter}`,
    `  hardware id       ${printable(m.hardwareId)}`,
    `  built             ${printable(b.date)} by ${printable(b.tool)}${b.host ? ` on ${printable(b.host)}` : ''}${b.commit ? ` (commit ${printable(b.commit)})` : ''}`,
    `  image sha256      ${img.sha256}`,
    `  payload sha256    ${img.payloadSha256} ${payloadOk ? '(matches)' : '(DOES NOT MATCH)'}`,
    `  self-test         ${printable(m.selfTest.frame)} -> ${m.selfTest.outputSha256}`,
    `  runtimes          ${m.runtimes.map((r) => `${r.build} (needs ${r.needs.join(', ')})`).join('; ')}`,
    ...(m.sbom ? [`  sbom              ${Object.keys(m.sbom).length} top-level fields, ${JSON.stringify(m.sbom).length} bytes`] : []),
    '  sections:',
  ];
  for (const s of m.sections) {
    const ok = sha256(img.payload.subarray(s.offset, s.offset + s.size)) === s.sha256;
    if (!ok) problems.push(`section ${s.name} SHA-256 does not match the manifest`);
    lines.push(`    ${s.name.padEnd(15)} ${String(s.size).padStart(9)} B  sha256 ${s.sha256.slice(0, 16)}… ${ok ? 'ok' : 'MISMATCH'}`);
  }
  try {
    const files = await readBundle(section(img, 'monitor'));
    const names = files.map((f) => printable(f.name));
    lines.push(`  monitor bundle: ${files.length} files${names.length ? ` (${names.slice(0, 6).join(', ')}${names.length > 6 ? ', …' : ''})` : ''}`);
  } catch (e) {
    const why = printable((e as Error).message);
    problems.push(why);
    lines.push(`  monitor bundle: DAMAGED — ${why}`);
  }
  lines.push('  signature: not checked here; run `aunet firmware verify FILE --pubkey KEY`');
  return { text: lines.join('\n'), problems };
}
