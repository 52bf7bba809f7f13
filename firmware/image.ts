// The .aufw firmware image: parse, verify, assemble (docs/firmware-format.md).
// Parsing never trusts a length before checking it against the buffer, so a
// mutated image fails with a named check instead of throwing a RangeError.
import { createHash, sign, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { AunetError } from '../common/errors.js';
import { formatIssues } from '../common/schema-issues.js';

export const MAGIC = 'AUFW';
/** 2: several runtime builds (`runtimes`, sections `runtime-<build>`); version 1 had one `runtime` section */
export const FORMAT_VERSION = 2;
export const HEADER_SIZE = 64;
export const SIGNATURE_SIZE = 64;
export const MAX_MANIFEST = 1 << 20;
/** The sections every image has besides its runtime builds, in this order after them. */
export const CONTENT_SECTIONS = ['model', 'config', 'monitor'] as const;
export type ContentSection = (typeof CONTENT_SECTIONS)[number];

/**
 * Runtime builds an image may carry, and what each needs of the box
 * (docs/firmware-format.md, "Runtimes"): `simd` is import-free plain SIMD,
 * `relaxed` adds relaxed SIMD, `threads` is the plain-SIMD kernels over an
 * imported shared memory run by a pool of worker threads.
 */
export const RUNTIME_BUILDS = {
  simd: ['wasm-simd'],
  relaxed: ['wasm-simd', 'wasm-relaxed-simd'],
  threads: ['wasm-simd', 'shared-memory', 'worker-threads'],
} as const satisfies Record<string, readonly RuntimeNeed[]>;
export type RuntimeBuild = keyof typeof RUNTIME_BUILDS;
export const RUNTIME_NEEDS = ['wasm-simd', 'wasm-relaxed-simd', 'shared-memory', 'worker-threads'] as const;
export type RuntimeNeed = (typeof RUNTIME_NEEDS)[number];
export const runtimeSection = (build: RuntimeBuild): string => `runtime-${build}`;

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits');
const buildName = z.enum(Object.keys(RUNTIME_BUILDS) as [RuntimeBuild, ...RuntimeBuild[]]);

export const manifestSchema = z
  .object({
    format: z.literal('aunet-firmware'),
    version: z.string().regex(/^\d+\.\d+\.\d+$/, 'must be MAJOR.MINOR.PATCH'),
    securityCounter: z.number().int().min(0).max(2 ** 31),
    hardwareId: z.string().min(1).max(64),
    build: z.object({ date: z.string(), tool: z.string(), host: z.string().optional(), commit: z.string().optional() }).strict(),
    sections: z
      .array(z.object({ name: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'must be 1 to 32 of a-z 0-9 -'), offset: z.number().int().min(0), size: z.number().int().min(0), sha256: sha256Hex }).strict())
      .min(CONTENT_SECTIONS.length + 1)
      .max(CONTENT_SECTIONS.length + Object.keys(RUNTIME_BUILDS).length),
    runtimes: z
      .array(z.object({ build: buildName, section: z.string(), needs: z.array(z.enum(RUNTIME_NEEDS)) }).strict())
      .min(1, 'an image needs at least one runtime build'),
    selfTest: z.object({ frame: z.string(), outputSha256: sha256Hex }).strict(),
    /** signed permission to install this image over a newer version at the same security counter */
    allowDowngrade: z.boolean().optional(),
    /** software bill of materials (e.g. CycloneDX JSON) of what the image was built with */
    sbom: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

export type Manifest = z.infer<typeof manifestSchema>;

/** Error codes double as the serial protocol's status names (docs/serial-protocol.md). */
export type ImageErrorCode = 'BAD_IMAGE' | 'BAD_SIGNATURE' | 'HASH_MISMATCH' | 'WRONG_HARDWARE' | 'DOWNGRADE';

export class ImageError extends AunetError {
  constructor(override readonly code: ImageErrorCode, message: string) {
    super(code, message);
    this.name = 'ImageError';
  }
}

export interface ParsedImage {
  manifest: Manifest;
  /** header + manifest: the signed bytes */
  signed: Uint8Array;
  signature: Uint8Array;
  payload: Uint8Array;
  payloadSha256: string;
  /** SHA-256 of the whole file: the image's identity */
  sha256: string;
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Parse the header and manifest of a complete image (no signature or hash checks yet). */
export function parseImage(buf: Uint8Array): ParsedImage {
  const head = parseHead(buf);
  const total = HEADER_SIZE + head.manifestLength + SIGNATURE_SIZE + head.payloadLength;
  if (buf.length !== total) {
    throw new ImageError('BAD_IMAGE', `image is ${buf.length} bytes but its header describes ${total} (truncated or padded)`);
  }
  const mEnd = HEADER_SIZE + head.manifestLength;
  return {
    manifest: head.manifest,
    signed: buf.subarray(0, mEnd),
    signature: buf.subarray(mEnd, mEnd + SIGNATURE_SIZE),
    payload: buf.subarray(mEnd + SIGNATURE_SIZE),
    payloadSha256: head.payloadSha256,
    sha256: sha256(buf),
  };
}

export interface ImageHead {
  manifest: Manifest;
  manifestLength: number;
  payloadLength: number;
  payloadSha256: string;
  /** bytes of header + manifest + signature */
  signedLength: number;
}

/** Parse header and manifest from the first bytes of an image (the box does this before accepting data). */
export function parseHead(buf: Uint8Array): ImageHead {
  if (buf.length < HEADER_SIZE) throw new ImageError('BAD_IMAGE', `image is ${buf.length} bytes, shorter than its ${HEADER_SIZE}-byte header`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const magic = String.fromCharCode(buf[0], buf[1], buf[2], buf[3]);
  if (magic !== MAGIC) throw new ImageError('BAD_IMAGE', `not a firmware image: magic is ${JSON.stringify(magic)}, expected "AUFW"`);
  const version = dv.getUint16(4, true);
  if (version !== FORMAT_VERSION) throw new ImageError('BAD_IMAGE', `unsupported format version ${version} (this tool reads ${FORMAT_VERSION})`);
  if (dv.getUint16(6, true) !== HEADER_SIZE) throw new ImageError('BAD_IMAGE', `header size field is ${dv.getUint16(6, true)}, expected ${HEADER_SIZE}`);
  const manifestLength = dv.getUint32(8, true);
  if (manifestLength === 0 || manifestLength > MAX_MANIFEST) throw new ImageError('BAD_IMAGE', `manifest length ${manifestLength} out of range 1..${MAX_MANIFEST}`);
  if (dv.getUint32(12, true) !== SIGNATURE_SIZE) throw new ImageError('BAD_IMAGE', `signature length field is ${dv.getUint32(12, true)}, expected ${SIGNATURE_SIZE}`);
  const payloadLength = Number(dv.getBigUint64(16, true));
  if (!Number.isSafeInteger(payloadLength) || payloadLength > 2 ** 32) throw new ImageError('BAD_IMAGE', `payload length ${payloadLength} out of range`);
  for (let i = 56; i < 64; i++) if (buf[i] !== 0) throw new ImageError('BAD_IMAGE', 'reserved header bytes are not zero');
  const payloadSha256 = Buffer.from(buf.subarray(24, 56)).toString('hex');
  if (buf.length < HEADER_SIZE + manifestLength) throw new ImageError('BAD_IMAGE', 'image ends inside its manifest');
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(HEADER_SIZE, HEADER_SIZE + manifestLength)));
  } catch (e) {
    throw new ImageError('BAD_IMAGE', `manifest is not valid UTF-8 JSON: ${(e as Error).message}`);
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    throw new ImageError('BAD_IMAGE', `manifest field ${formatIssues(parsed.error.issues, { first: true })}`);
  }
  const manifest = parsed.data;
  checkLayout(manifest, payloadLength);
  return { manifest, manifestLength, payloadLength, payloadSha256, signedLength: HEADER_SIZE + manifestLength + SIGNATURE_SIZE };
}

/**
 * The sections: each runtime build's section first (in the order of
 * `runtimes`), then model, config and monitor, contiguous from offset 0,
 * covering the payload exactly; each build once, with the needs it has.
 */
function checkLayout(m: Manifest, payloadLength: number): void {
  const expected = [...m.runtimes.map((r) => r.section), ...CONTENT_SECTIONS];
  const seen = new Set<string>();
  for (const r of m.runtimes) {
    if (seen.has(r.build)) throw new ImageError('BAD_IMAGE', `manifest lists runtime build "${r.build}" twice`);
    seen.add(r.build);
    if (r.section !== runtimeSection(r.build)) throw new ImageError('BAD_IMAGE', `runtime build "${r.build}" must be in section "${runtimeSection(r.build)}", not "${r.section}"`);
    const needs = [...RUNTIME_BUILDS[r.build]].sort().join(',');
    if ([...r.needs].sort().join(',') !== needs) throw new ImageError('BAD_IMAGE', `runtime build "${r.build}" needs [${needs}], the manifest says [${r.needs.join(',')}]`);
  }
  if (m.sections.length !== expected.length) throw new ImageError('BAD_IMAGE', `manifest has ${m.sections.length} sections, expected ${expected.length} (${expected.join(', ')})`);
  let offset = 0;
  expected.forEach((name, i) => {
    const s = m.sections[i];
    if (s.name !== name) throw new ImageError('BAD_IMAGE', `manifest section ${i} is "${s.name}", expected "${name}"`);
    if (s.offset !== offset) throw new ImageError('BAD_IMAGE', `section ${name} starts at ${s.offset}, expected ${offset}`);
    offset += s.size;
  });
  if (offset !== payloadLength) throw new ImageError('BAD_IMAGE', `sections cover ${offset} bytes but the payload is ${payloadLength}`);
}

/** Check the signature over header and manifest. Cheap: needs only the signed head. */
export function verifyHeadSignature(headBytes: Uint8Array, head: ImageHead, publicKey: KeyObject): void {
  const mEnd = HEADER_SIZE + head.manifestLength;
  if (headBytes.length < mEnd + SIGNATURE_SIZE) throw new ImageError('BAD_IMAGE', 'image ends inside its signature');
  const ok = verify(null, headBytes.subarray(0, mEnd), publicKey, headBytes.subarray(mEnd, mEnd + SIGNATURE_SIZE));
  if (!ok) throw new ImageError('BAD_SIGNATURE', 'signature does not verify with this public key (tampered image or wrong key)');
}

export interface DevicePolicy {
  hardwareId: string;
  /** highest security counter the box has confirmed */
  minSecurityCounter: number;
}

/** Order of two MAJOR.MINOR.PATCH versions: negative when a is older. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i] - pb[i];
  return 0;
}

export function checkPolicy(manifest: Manifest, policy: DevicePolicy): void {
  if (manifest.hardwareId !== policy.hardwareId) {
    throw new ImageError('WRONG_HARDWARE', `image is for hardware "${manifest.hardwareId}", this box is "${policy.hardwareId}" (build it with --hardware-id ${policy.hardwareId})`);
  }
  if (manifest.securityCounter < policy.minSecurityCounter) {
    throw new ImageError('DOWNGRADE', `image security counter ${manifest.securityCounter} is below the box's minimum ${policy.minSecurityCounter} (downgrade refused; an update needs --security-counter ${policy.minSecurityCounter} or higher)`);
  }
}

/** Full verification: structure, signature, payload and section hashes, and optionally device policy. */
export function verifyImage(buf: Uint8Array, publicKey: KeyObject, policy?: DevicePolicy): ParsedImage {
  const img = parseImage(buf);
  verifyHeadSignature(buf, parseHead(buf), publicKey);
  if (sha256(img.payload) !== img.payloadSha256) throw new ImageError('HASH_MISMATCH', 'payload SHA-256 does not match the header');
  for (const s of img.manifest.sections) {
    if (sha256(img.payload.subarray(s.offset, s.offset + s.size)) !== s.sha256) {
      throw new ImageError('HASH_MISMATCH', `section ${s.name} SHA-256 does not match the manifest`);
    }
  }
  if (policy) checkPolicy(img.manifest, policy);
  return img;
}

export function section(img: ParsedImage, name: ContentSection | `runtime-${RuntimeBuild}`): Uint8Array {
  const s = img.manifest.sections.find((x) => x.name === name);
  if (!s) throw new ImageError('BAD_IMAGE', `image has no section "${name}"`);
  return img.payload.subarray(s.offset, s.offset + s.size);
}

export interface ImageInput {
  version: string;
  securityCounter: number;
  hardwareId: string;
  build: Manifest['build'];
  /** runtime builds in order of the builder's preference */
  runtimes: { build: RuntimeBuild; bytes: Uint8Array }[];
  model: Uint8Array;
  config: Uint8Array;
  monitor: Uint8Array;
  selfTest: Manifest['selfTest'];
  allowDowngrade?: boolean;
  sbom?: Record<string, unknown>;
}

/** Assemble and sign an image. */
export function assembleImage(input: ImageInput, privateKey: KeyObject): Uint8Array {
  const parts: [string, Uint8Array][] = [
    ...input.runtimes.map((r): [string, Uint8Array] => [runtimeSection(r.build), r.bytes]),
    ['model', input.model],
    ['config', input.config],
    ['monitor', input.monitor],
  ];
  let offset = 0;
  const sections = parts.map(([name, bytes]) => {
    const s = { name, offset, size: bytes.length, sha256: sha256(bytes) };
    offset += bytes.length;
    return s;
  });
  const parsed = manifestSchema.safeParse({
    format: 'aunet-firmware',
    version: input.version,
    securityCounter: input.securityCounter,
    hardwareId: input.hardwareId,
    build: input.build,
    sections,
    runtimes: input.runtimes.map((r) => ({ build: r.build, section: runtimeSection(r.build), needs: [...RUNTIME_BUILDS[r.build]] })),
    selfTest: input.selfTest,
    ...(input.allowDowngrade ? { allowDowngrade: true } : {}),
    ...(input.sbom ? { sbom: input.sbom } : {}),
  });
  if (!parsed.success) throw new ImageError('BAD_IMAGE', `manifest field ${formatIssues(parsed.error.issues, { first: true })}`);
  const manifest: Manifest = parsed.data;
  checkLayout(manifest, offset);
  const payload = Buffer.concat(parts.map(([, b]) => b));
  const mBytes = Buffer.from(JSON.stringify(manifest), 'utf8');
  if (mBytes.length > MAX_MANIFEST) throw new ImageError('BAD_IMAGE', `manifest is ${mBytes.length} bytes, over the format's ${MAX_MANIFEST} (a smaller --sbom?)`);
  const header = Buffer.alloc(HEADER_SIZE);
  header.write(MAGIC, 0, 'latin1');
  header.writeUInt16LE(FORMAT_VERSION, 4);
  header.writeUInt16LE(HEADER_SIZE, 6);
  header.writeUInt32LE(mBytes.length, 8);
  header.writeUInt32LE(SIGNATURE_SIZE, 12);
  header.writeBigUInt64LE(BigInt(payload.length), 16);
  Buffer.from(sha256(payload), 'hex').copy(header, 24);
  const signed = Buffer.concat([header, mBytes]);
  const signature = sign(null, signed, privateKey);
  return Buffer.concat([signed, signature, payload]);
}
