// The .aunet model file (docs/model-format.md): a fixed 24-byte prefix (magic,
// version, section lengths), a JSON header (architecture, preprocessing, the
// quantization of every tensor, scalar op params, where each array lies, meta),
// a tensor section of little-endian arrays, and a SHA-256 of everything before it.
// The reader checks framing, then the hash, then the header schema, then the
// model against the graph its architecture builds; it copies every array out of
// the file buffer and returns nothing until all checks pass.
import { createHash } from 'node:crypto';
import { writeFileSync, renameSync } from 'node:fs';
import { z } from 'zod';
import { FileError, type ErrorCode } from '../common/errors.js';
import { formatIssues } from '../common/schema-issues.js';
import type { QModel, QOpParams, QuantParams } from './qmodel.js';
import { ModelError, validateQModel } from './qmodel-check.js';
import { ArchError, validateArch } from './graph.js';
import { readInputFile } from '../common/input-file.js';

export const MAGIC = Uint8Array.from([0x89, 0x41, 0x55, 0x4e, 0x45, 0x54, 0x0d, 0x0a]); // \x89 A U N E T \r \n
export const FORMAT_VERSION = 1;
export const PREFIX_BYTES = 24;
export const DIGEST_BYTES = 32;
/** arrays start on 16-byte boundaries (SIMD-friendly when mapped) */
export const ALIGN = 16;
/** a header larger than this is a corrupt length field, not a model */
const MAX_HEADER_BYTES = 64 << 20;
const MAX_SECTION_BYTES = 2 ** 40;

type DType = 'int8' | 'int32' | 'float32';
const DTYPE_BYTES: Record<DType, number> = { int8: 1, int32: 4, float32: 4 };

/** Array fields of each op kind, in file order, with their element type. */
const ARRAY_FIELDS: Partial<Record<QOpParams['kind'], [string, DType][]>> = {
  conv: [['weights', 'int8'], ['weightScales', 'float32'], ['bias', 'int32'], ['multiplier', 'int32'], ['shift', 'int32']],
  affine: [['weights', 'int8'], ['weightScales', 'float32'], ['bias', 'int32'], ['multiplier', 'int32'], ['shift', 'int32']],
  sigmoid: [['lut', 'int8']],
};

// ---------------------------------------------------------------- header schema
const int = z.number().int();
const arrayRef = z.object({ dtype: z.enum(['int8', 'int32', 'float32']), offset: int.nonnegative(), count: int.nonnegative() }).strict();
const requant = z.object({ multiplier: int, shift: int }).strict();
const act = { actMin: int, actMax: int };
const perChannelArrays = z.object({ weights: arrayRef, weightScales: arrayRef, bias: arrayRef, multiplier: arrayRef, shift: arrayRef }).strict();
const opSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('conv'), pads: z.tuple([int, int, int, int]), ...act, arrays: perChannelArrays }).strict(),
  z.object({ kind: z.literal('affine'), ...act, arrays: perChannelArrays }).strict(),
  z.object({ kind: z.literal('add'), leftShift: int, inputA: requant, inputB: requant, output: requant, ...act }).strict(),
  z.object({ kind: z.literal('concat'), inputA: requant, inputB: requant }).strict(),
  z.object({ kind: z.literal('sigmoid'), arrays: z.object({ lut: arrayRef }).strict() }).strict(),
  z.object({ kind: z.literal('gatemul'), requant, ...act }).strict(),
]);
const headerSchema = z
  .object({
    format: z.literal('aunet'),
    arch: z.object({ filters: int, height: int, width: int, channels: int }).strict(),
    preprocessing: z
      .object({
        resize: z.enum(['stretch', 'letterbox']),
        normalize: z.literal('unit'),
        clahe: z.object({ clipLimit: z.number(), tiles: int }).strict().optional(),
      })
      .strict(),
    tensors: z.record(z.string(), z.object({ scale: z.number(), zeroPoint: int }).strict()),
    ops: z.record(z.string(), opSchema),
    meta: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();
type Header = z.infer<typeof headerSchema>;
type ArrayRef = z.infer<typeof arrayRef>;

// ---------------------------------------------------------------- writing
/** Serialise a model (validated first: a model that does not fit its architecture is never written). */
export function encodeModel(q: QModel): Uint8Array {
  const graph = validateQModel(q);
  const chunks: { ref: ArrayRef; data: Int8Array | Int32Array | Float32Array }[] = [];
  let section = 0;
  const place = (dtype: DType, data: Int8Array | Int32Array | Float32Array): ArrayRef => {
    section = align(section);
    const ref = { dtype, offset: section, count: data.length };
    chunks.push({ ref, data });
    section += data.length * DTYPE_BYTES[dtype];
    return ref;
  };
  const ops: Header['ops'] = {};
  // graph order, so two writes of one model give identical bytes
  for (const op of graph.ops) {
    const p = q.ops[op.name];
    if (!p) continue;
    const fields = ARRAY_FIELDS[p.kind];
    const { kind: _kind, ...rest } = p as unknown as Record<string, unknown>;
    const scalars: Record<string, unknown> = {};
    const arrays: Record<string, ArrayRef> = {};
    for (const [k, v] of Object.entries(rest)) {
      const f = fields?.find(([name]) => name === k);
      if (f) continue;
      scalars[k] = k === 'pads' ? [...(v as number[])] : v;
    }
    for (const [name, dtype] of fields ?? []) arrays[name] = place(dtype, (p as unknown as Record<string, Int8Array | Int32Array | Float32Array>)[name]);
    ops[op.name] = { kind: p.kind, ...scalars, ...(fields ? { arrays } : {}) } as Header['ops'][string];
  }
  const tensors: Record<string, QuantParams> = {};
  for (const name of graph.tensors.keys()) tensors[name] = { scale: q.tensors[name].scale, zeroPoint: q.tensors[name].zeroPoint };
  const header: Header = {
    format: 'aunet',
    arch: { filters: q.arch.filters, height: q.arch.height, width: q.arch.width, channels: q.arch.channels },
    preprocessing: q.preprocessing,
    tensors,
    ops,
    ...(q.meta ? { meta: q.meta } : {}),
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const sectionStart = align(PREFIX_BYTES + json.length);
  const sectionBytes = align(section);
  const total = sectionStart + sectionBytes + DIGEST_BYTES;
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  out.set(MAGIC, 0);
  dv.setUint32(8, FORMAT_VERSION, true);
  dv.setUint32(12, json.length, true);
  dv.setBigUint64(16, BigInt(sectionBytes), true);
  out.set(json, PREFIX_BYTES);
  for (const { ref, data } of chunks) {
    const base = sectionStart + ref.offset;
    for (let i = 0; i < data.length; i++) {
      if (ref.dtype === 'int8') dv.setInt8(base + i, data[i]);
      else if (ref.dtype === 'int32') dv.setInt32(base + 4 * i, data[i], true);
      else dv.setFloat32(base + 4 * i, data[i], true);
    }
  }
  out.set(sha256(out.subarray(0, total - DIGEST_BYTES)), total - DIGEST_BYTES);
  return out;
}

/** Write atomically (temp file + rename), so a crash never leaves half a model under the real name. */
export function writeModel(path: string, q: QModel): void {
  const bytes = encodeModel(q);
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, bytes);
    renameSync(tmp, path);
  } catch (e) {
    throw new FileError(path, `cannot write model: ${(e as Error).message}`, 'WRITE_FAILED');
  }
}

// ---------------------------------------------------------------- reading
export interface ModelFileInfo {
  version: number;
  headerBytes: number;
  sectionBytes: number;
  fileBytes: number;
  /** hex SHA-256 of the whole file, as `sha256sum` prints it and the status topic reports it */
  sha256: string;
  /** hex integrity digest stored at the end of the file (SHA-256 of everything before it; checked on read) */
  digest: string;
}

/** Parse and fully validate a model file image; `file` names it in errors. */
export function decodeModel(bytes: Uint8Array, file = '<buffer>'): QModel {
  return decodeModelWithInfo(bytes, file).model;
}

export function decodeModelWithInfo(bytes: Uint8Array, file = '<buffer>'): { model: QModel; info: ModelFileInfo; header: Header } {
  const fail = (problem: string, code: ErrorCode = 'BAD_MODEL'): never => {
    throw new FileError(file, problem, code);
  };
  if (bytes.length < MAGIC.length || !MAGIC.every((b, i) => bytes[i] === b)) {
    const head = new TextDecoder('latin1').decode(bytes.subarray(0, 4));
    if (head === 'AUFW') fail('this is a firmware image (.aufw), not a model; use `aunet inspect` or `aunet firmware`', 'NOT_A_MODEL');
    fail(bytes.length < MAGIC.length ? `truncated: ${bytes.length} bytes, not even the 8-byte magic` : 'not an .aunet model (bad magic bytes)', 'NOT_A_MODEL');
  }
  if (bytes.length < PREFIX_BYTES) fail(`truncated: ${bytes.length} bytes, the fixed prefix alone is ${PREFIX_BYTES}`, 'TRUNCATED');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getUint32(8, true);
  if (version !== FORMAT_VERSION) fail(`unsupported format version ${version} (this tool reads version ${FORMAT_VERSION})`, 'BAD_VERSION');
  const headerBytes = dv.getUint32(12, true);
  const sectionBig = dv.getBigUint64(16, true);
  if (headerBytes === 0 || headerBytes > MAX_HEADER_BYTES) fail(`corrupted: header length ${headerBytes} is out of range`);
  if (sectionBig > BigInt(MAX_SECTION_BYTES) || Number(sectionBig) % ALIGN !== 0) fail(`corrupted: tensor section length ${sectionBig} is out of range`);
  const sectionBytes = Number(sectionBig);
  const sectionStart = align(PREFIX_BYTES + headerBytes);
  const total = sectionStart + sectionBytes + DIGEST_BYTES;
  if (bytes.length < total) fail(`truncated: ${bytes.length} bytes, the prefix says the file is ${total} bytes`, 'TRUNCATED');
  if (bytes.length > total) fail(`corrupted: ${bytes.length - total} bytes of trailing data after the ${total}-byte model`);
  const stored = bytes.subarray(total - DIGEST_BYTES);
  const computed = sha256(bytes.subarray(0, total - DIGEST_BYTES));
  if (!computed.every((b, i) => b === stored[i])) {
    fail(`corrupted: SHA-256 mismatch (stored ${hex(stored).slice(0, 16)}..., computed ${hex(computed).slice(0, 16)}...)`, 'BAD_HASH');
  }
  // Past the hash the bytes are what the writer wrote; the checks below catch
  // files written by another tool or for another architecture.
  for (let i = PREFIX_BYTES + headerBytes; i < sectionStart; i++) if (bytes[i] !== 0) fail('corrupted: non-zero header padding');
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(PREFIX_BYTES, PREFIX_BYTES + headerBytes)));
  } catch (e) {
    fail(`header is not valid UTF-8 JSON: ${(e as Error).message}`);
  }
  const parsed = headerSchema.safeParse(raw);
  if (!parsed.success) {
    fail(`header field ${formatIssues(parsed.error.issues, { first: true })}`);
  }
  const header = (parsed as { data: Header }).data;
  // the architecture's limits before a single array is read (an absurd input size or filter count)
  try {
    validateArch(header.arch);
  } catch (e) {
    if (e instanceof ArchError) fail(`architecture outside the limits (docs/model-format.md, "Limits"): ${e.message}`, 'BAD_ARCH');
    throw e;
  }
  const readArray = (at: string, ref: ArrayRef, want: DType): Int8Array | Int32Array | Float32Array => {
    if (ref.dtype !== want) fail(`${at}: stored as ${ref.dtype}, must be ${want}`);
    const size = ref.count * DTYPE_BYTES[want];
    if (ref.offset % ALIGN !== 0 || ref.offset + size > sectionBytes) fail(`${at}: ${size} bytes at offset ${ref.offset} lie outside the ${sectionBytes}-byte tensor section`);
    const base = sectionStart + ref.offset;
    if (want === 'int8') {
      const o = new Int8Array(ref.count);
      o.set(new Int8Array(bytes.buffer, bytes.byteOffset + base, size));
      return o;
    }
    const out = want === 'int32' ? new Int32Array(ref.count) : new Float32Array(ref.count);
    for (let i = 0; i < ref.count; i++) out[i] = want === 'int32' ? dv.getInt32(base + 4 * i, true) : dv.getFloat32(base + 4 * i, true);
    return out;
  };
  const ops: Record<string, QOpParams> = {};
  for (const [name, entry] of Object.entries(header.ops)) {
    const { arrays, ...scalars } = entry as typeof entry & { arrays?: Record<string, ArrayRef> };
    const p: Record<string, unknown> = { ...scalars };
    if ('pads' in p) p.pads = [...(p.pads as number[])];
    for (const [field, dtype] of ARRAY_FIELDS[entry.kind] ?? []) p[field] = readArray(`ops.${name}.${field}`, arrays![field], dtype);
    ops[name] = p as unknown as QOpParams;
  }
  const model: QModel = {
    arch: header.arch,
    preprocessing: header.preprocessing,
    tensors: header.tensors,
    ops,
    ...(header.meta ? { meta: header.meta } : {}),
  };
  try {
    validateQModel(model);
  } catch (e) {
    if (e instanceof ModelError) fail(`does not fit its architecture (F=${header.arch.filters}, ${header.arch.height}x${header.arch.width}x${header.arch.channels}): ${e.message}`, 'BAD_ARCH');
    throw e;
  }
  return { model, header, info: { version, headerBytes, sectionBytes, fileBytes: total, sha256: hex(sha256(bytes.subarray(0, total))), digest: hex(stored) } };
}

export function readModel(path: string): QModel {
  return readModelWithInfo(path).model;
}

export function readModelWithInfo(path: string): ReturnType<typeof decodeModelWithInfo> {
  return decodeModelWithInfo(readInputFile(path, 'model'), path);
}

export type { Header as ModelHeader };

function align(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}

function sha256(b: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(b).digest());
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}
