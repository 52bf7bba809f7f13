// rec:PATH — reads .aurec recordings (docs/recording-format.md). Frames come back
// bit-exact with their original ids, timestamps, masks and metadata, or not at
// all: every record's CRC is checked, and what a bad record means depends on
// whether the index promised what lies behind it.
//  - A torn tail (a record cut short or garbled after the last indexed frame,
//    with no clean end) is what a power cut or a full disk leaves: everything
//    before it replays, with a warning.
//  - Damage anywhere the index or the clean end record vouches for (a frame, an
//    index record, frames the index lists that cannot be read) is a FileError
//    (BAD_RECORDING) naming the byte, the frame and what is wrong, so that a
//    replay or golden check of a damaged file fails instead of passing on fewer
//    frames. With `salvage` the intact records after the damage are found again
//    (by their tags and CRCs) and replayed, each frame keeping its position.
import { openSync, readSync, closeSync } from 'node:fs';
import { crc32, inflateRawSync } from 'node:zlib';
import type { Frame, FrameMeta, SourceInfo } from '../frame.js';
import { BaseSource } from '../frame.js';
import type { SourceOptions } from '../source-options.js';
import { MAGIC, TAG_DONE, TAG_FRAME, TAG_INDEX, CODEC_DEFLATE, CODEC_RAW } from '../recorder.js';
import { FileError } from '../../common/errors.js';
import { checkRegularFile } from '../../common/input-file.js';
import { checkImageSize } from '../../common/image-io.js';

export interface RecordingHeader {
  format: string;
  version: number;
  created: string;
  source: SourceInfo;
  recorder?: { aunet?: string; host?: string };
}

/** A stretch of a salvaged recording that could not be read. */
export interface DamagedSpan {
  /** byte offsets [from, to) */
  from: number;
  to: number;
  reason: string;
}

export interface RecordingStatus {
  /** frames read so far (all of them once iteration ends) */
  frames: number;
  /** true when the file has no clean end: it was cut short and recovered */
  recovered: boolean;
  /** bytes after the last intact record (a torn tail) */
  ignoredBytes: number;
  /** salvage: the damaged stretches skipped */
  damaged: DamagedSpan[];
  /** salvage: frames lost in them (by the index, or by the end record's count) */
  lostFrames: number;
}

export function newRecordingStatus(): RecordingStatus {
  return { frames: 0, recovered: false, ignoredBytes: 0, damaged: [], lostFrames: 0 };
}

type RecordAt = { ok: true; tag: string; body: Buffer; end: number } | { ok: false; reason: string };

/** An INDX record's entries (frame record offset and id) and its link to the previous index. */
interface IndexRecord {
  at: number;
  entries: { offset: number; id: number }[];
  previous: number;
}

const TAGS = [TAG_FRAME, TAG_INDEX, TAG_DONE].map((t) => Buffer.from(t, 'latin1'));
const SCAN_CHUNK = 1 << 20;

/** Sequential reader over a recording's records, verifying every CRC. */
export class RecordingReader {
  readonly header: RecordingHeader;
  readonly size: number;
  /** frame count from the DONE record, when the recording ended cleanly */
  readonly doneCount: number | undefined;
  readonly #doneLastIndex: number | undefined;
  readonly #fd: number;
  readonly #dataStart: number;

  constructor(readonly path: string, readonly salvage = false) {
    this.size = checkRegularFile(path, 'recording').size;
    try {
      this.#fd = openSync(path, 'r');
    } catch (e) {
      throw new FileError(path, `recording cannot be opened: ${(e as Error).message}`, 'NO_FILE');
    }
    try {
      const head = this.#read(0, 12);
      if (head.length < 12 || !head.subarray(0, 8).equals(MAGIC)) throw this.#bad('not an aunet recording (bad magic; expected "AUREC1")');
      const len = head.readUInt32LE(8);
      if (12 + len + 4 > this.size) throw this.#bad('recording header is damaged (cut short or a wrong length)');
      const json = this.#read(12, len);
      const crc = this.#read(12 + len, 4);
      if (crc.readUInt32LE(0) !== crc32(json)) throw this.#bad('recording header is damaged (CRC mismatch)');
      try {
        this.header = JSON.parse(json.toString('utf8')) as RecordingHeader;
      } catch (e) {
        throw this.#bad(`recording header is not JSON: ${(e as Error).message}`);
      }
      if (this.header?.format !== 'aunet-recording' || this.header.version !== 1) {
        throw this.#bad(`unsupported recording format ${this.header?.format} v${this.header?.version} (this reader knows aunet-recording v1)`);
      }
      this.#dataStart = 16 + len;
    } catch (e) {
      closeSync(this.#fd);
      throw e;
    }
    // A clean end is a 24-byte DONE record at the very end.
    if (this.size >= this.#dataStart + 24) {
      const rec = this.#read(this.size - 24, 24);
      if (rec.toString('latin1', 0, 4) === TAG_DONE && rec.readUInt32LE(4) === 12 && rec.readUInt32LE(20) === crc32(rec.subarray(0, 20))) {
        this.doneCount = rec.readUInt32LE(8);
        this.#doneLastIndex = Number(rec.readBigUInt64LE(12));
      }
    }
  }

  /** Yields every intact frame in order; fills `status` as it goes; `warn` hears of torn tails and salvage. */
  *frames(status: RecordingStatus, warn: (message: string) => void = () => {}): Generator<Frame> {
    let pos = this.#dataStart;
    let sinceIndex: { offset: number; id: number }[] = [];
    let lastIndexAt = 0;
    // salvage: frame record offset -> position, from every intact index record
    let positions: Map<number, number> | undefined;
    let position = -1;
    while (pos < this.size) {
      const r = this.#recordAt(pos);
      let problem = r.ok ? undefined : r.reason;
      let frame: Frame | undefined;
      if (r.ok && r.tag === TAG_FRAME) {
        try {
          frame = this.#decodeFrame(r.body);
        } catch (e) {
          problem = `frame record cannot be decoded: ${(e as Error).message}`;
        }
      } else if (r.ok && r.tag === TAG_INDEX && !this.salvage) {
        problem = this.#checkIndex(pos, r.body, sinceIndex, lastIndexAt);
      } else if (r.ok && r.tag === TAG_DONE && !this.salvage) {
        // the CRC held, the length may still be wrong (found by the fuzzer: a short body threw RangeError)
        const count = r.body.length === 12 ? r.body.readUInt32LE(0) : -1;
        if (count < 0) problem = `end record of ${r.body.length} bytes (12 expected)`;
        else if (count !== status.frames) problem = `the end record counts ${count} frames but ${status.frames} were read`;
        else if (Number(r.body.readBigUInt64LE(4)) !== lastIndexAt) problem = `the end record points to an index at byte ${r.body.readBigUInt64LE(4)}, the last one is at byte ${lastIndexAt}`;
      }
      if (problem !== undefined) {
        const where = `byte ${pos} (after frame ${status.frames + status.lostFrames})`;
        const damage = this.#damage(pos, status.frames + status.lostFrames);
        if (!damage) {
          status.recovered = true;
          status.ignoredBytes = this.size - pos;
          warn(`${this.path}: no clean end (a crash, power cut or full disk while recording): ${status.frames} frames replay, the ${status.ignoredBytes} bytes after the last indexed frame are a torn tail (${problem}) and are ignored`);
          return;
        }
        if (!this.salvage) throw new FileError(this.path, `damaged at ${where}: ${problem}; ${damage}. \`--salvage\` replays the frames that can be recovered`, 'BAD_RECORDING');
        positions ??= this.#positions();
        const next = this.#resync(pos + 1);
        status.damaged.push({ from: pos, to: next ?? this.size, reason: problem });
        warn(`${this.path}: SALVAGED: damaged bytes ${pos}..${next ?? this.size} skipped (${problem})`);
        if (next === undefined) break;
        pos = next;
        continue;
      }
      const at = pos;
      pos = (r as { end: number }).end;
      if (frame) {
        sinceIndex.push({ offset: at, id: frame.id });
        const known = positions?.get(at);
        const next = known ?? position + 1;
        status.lostFrames += next - position - 1;
        position = next;
        if (this.salvage) frame.index = position;
        status.frames++;
        yield frame;
      } else if ((r as { tag: string }).tag === TAG_INDEX) {
        lastIndexAt = at;
        sinceIndex = [];
      } else if ((r as { tag: string }).tag === TAG_DONE) {
        if (this.salvage && this.doneCount !== undefined) status.lostFrames = Math.max(status.lostFrames, this.doneCount - status.frames);
        status.ignoredBytes = this.size - pos;
        if (status.ignoredBytes > 0) warn(`${this.path}: ${status.ignoredBytes} bytes after the end record are ignored`);
        return this.#salvageNote(status, warn);
      }
      // unknown record kinds from newer writers are skipped (their CRC was checked)
    }
    if (this.salvage && this.doneCount !== undefined) status.lostFrames = Math.max(status.lostFrames, this.doneCount - status.frames);
    status.recovered = true;
    if (!this.salvage || status.damaged.length === 0) {
      warn(`${this.path}: no clean end (a crash, power cut or full disk while recording): ${status.frames} frames replay`);
    }
    this.#salvageNote(status, warn);
  }

  close(): void {
    try {
      closeSync(this.#fd);
    } catch {
      /* already closed */
    }
  }

  #salvageNote(status: RecordingStatus, warn: (message: string) => void): void {
    if (status.damaged.length) warn(`${this.path}: SALVAGED: ${status.frames} frames recovered, ${status.lostFrames} lost in ${status.damaged.length} damaged stretch(es); this is not the recording as it was made`);
  }

  /**
   * Why a bad record at `pos` is damage rather than a torn tail, or undefined
   * when it is a torn tail: nothing after it is promised by an end record or an
   * intact index.
   */
  #damage(pos: number, before: number): string | undefined {
    if (this.doneCount !== undefined) {
      return `the recording ended cleanly with ${this.doneCount} frames, so this is damage, not a torn tail (${before} frames before it are intact)`;
    }
    const promised = this.#indexRecords(pos + 1)
      .flatMap((ix) => ix.entries)
      .filter((e) => e.offset >= pos);
    if (promised.length > 0) return `an intact index after it lists ${promised.length} more frame(s) from there on, so this is damage, not a torn tail`;
    return undefined;
  }

  /** The entries of an INDX body must be exactly the frames since the previous index. */
  #checkIndex(at: number, body: Buffer, since: { offset: number; id: number }[], lastIndexAt: number): string | undefined {
    const ix = parseIndex(at, body);
    if (!ix) return 'index record has a wrong length for its entry count';
    if (ix.previous !== lastIndexAt) return `index record links to byte ${ix.previous}, the previous index is at byte ${lastIndexAt}`;
    const same = ix.entries.length === since.length && ix.entries.every((e, i) => e.offset === since[i].offset && (e.id === since[i].id || (Number.isNaN(e.id) && Number.isNaN(since[i].id))));
    if (!same) return `index record lists ${ix.entries.length} frame(s) that are not the ${since.length} frame record(s) before it`;
    return undefined;
  }

  /** Every intact INDX record from byte `from` on (found by tag and CRC). */
  #indexRecords(from: number): IndexRecord[] {
    const out: IndexRecord[] = [];
    for (let at = this.#find(from, [TAGS[1]]); at !== undefined; at = this.#find(at + 1, [TAGS[1]])) {
      const r = this.#recordAt(at);
      const ix = r.ok && r.tag === TAG_INDEX ? parseIndex(at, r.body) : undefined;
      if (ix) out.push(ix);
    }
    return out;
  }

  /** Salvage: the position of every frame record an intact index lists. */
  #positions(): Map<number, number> {
    const map = new Map<number, number>();
    let n = 0;
    for (const ix of this.#indexRecords(this.#dataStart)) for (const e of ix.entries) if (!map.has(e.offset)) map.set(e.offset, n++);
    return map;
  }

  /** Salvage: the first intact record at or after `from`. */
  #resync(from: number): number | undefined {
    for (let at = this.#find(from, TAGS); at !== undefined; at = this.#find(at + 1, TAGS)) {
      if (this.#recordAt(at).ok) return at;
    }
    return undefined;
  }

  /** The first offset >= from where one of `needles` (4-byte tags) starts. */
  #find(from: number, needles: Buffer[]): number | undefined {
    for (let start = from; start < this.size; start += SCAN_CHUNK) {
      const chunk = this.#read(start, SCAN_CHUNK + 3);
      let best: number | undefined;
      for (const n of needles) {
        const i = chunk.indexOf(n);
        if (i >= 0 && i < SCAN_CHUNK && (best === undefined || i < best)) best = i;
      }
      if (best !== undefined) return start + best;
    }
    return undefined;
  }

  #recordAt(pos: number): RecordAt {
    const head = this.#read(pos, 8);
    if (head.length < 8) return { ok: false, reason: 'the file ends inside a record header' };
    const tag = head.toString('latin1', 0, 4);
    const len = head.readUInt32LE(4);
    if (pos + 8 + len + 4 > this.size) return { ok: false, reason: `a record of ${len} bytes runs past the end of the file` };
    const body = this.#read(pos + 8, len);
    const crc = this.#read(pos + 8 + len, 4).readUInt32LE(0);
    if (crc !== crc32(body, crc32(head))) return { ok: false, reason: 'CRC mismatch' };
    return { ok: true, tag, body, end: pos + 12 + len };
  }

  #decodeFrame(b: Buffer): Frame {
    if (b.length < 44) throw new Error(`${b.length} bytes, shorter than the fixed fields`);
    const width = b.readUInt32LE(24);
    const height = b.readUInt32LE(28);
    checkImageSize(width, height, this.path, 'BAD_RECORDING');
    const codec = b.readUInt8(32);
    const flags = b.readUInt8(33);
    const metaLen = b.readUInt32LE(36);
    if (codec !== CODEC_DEFLATE && codec !== CODEC_RAW) throw new Error(`unknown codec ${codec}`);
    let p = 40;
    if (p + metaLen > b.length) throw new Error('metadata runs past the record');
    const meta = JSON.parse(b.toString('utf8', p, p + metaLen)) as FrameMeta;
    p += metaLen;
    const n = width * height;
    const take = (what: string): Uint8Array => {
      if (p + 4 > b.length) throw new Error(`${what} length runs past the record`);
      const len = b.readUInt32LE(p);
      if (p + 4 + len > b.length) throw new Error(`${what} run past the record`);
      const data = b.subarray(p + 4, p + 4 + len);
      p += 4 + len;
      // inflating is bounded by the frame size: a damaged stream cannot allocate more
      const out = codec === CODEC_DEFLATE ? new Uint8Array(inflateRawSync(data, { maxOutputLength: n + 1 })) : new Uint8Array(data);
      if (out.length !== n) throw new Error(`${what} hold ${out.length} bytes for ${width}x${height}`);
      return out;
    };
    const pixels = take('pixels');
    const groundTruth = flags & 1 ? take('mask') : undefined;
    return { id: b.readDoubleLE(0), captureTime: { monoNs: b.readBigInt64LE(8), wallMs: b.readDoubleLE(16) }, width, height, pixels, groundTruth, meta };
  }

  #bad(problem: string): FileError {
    return new FileError(this.path, problem, 'BAD_RECORDING');
  }

  #read(pos: number, len: number): Buffer {
    const buf = Buffer.alloc(Math.max(0, Math.min(len, this.size - pos)));
    let done = 0;
    while (done < buf.length) {
      const n = readSync(this.#fd, buf, done, buf.length - done, pos + done);
      if (n === 0) break;
      done += n;
    }
    return buf.subarray(0, done);
  }
}

function parseIndex(at: number, body: Buffer): IndexRecord | undefined {
  if (body.length < 12) return undefined;
  const count = body.readUInt32LE(0);
  if (body.length !== 4 + count * 16 + 8) return undefined;
  const entries = Array.from({ length: count }, (_, i) => ({ offset: Number(body.readBigUInt64LE(4 + i * 16)), id: body.readDoubleLE(12 + i * 16) }));
  return { at, entries, previous: Number(body.readBigUInt64LE(4 + count * 16)) };
}

export class RecordingSource extends BaseSource {
  readonly status: RecordingStatus = newRecordingStatus();

  constructor(spec: string, private readonly reader: RecordingReader) {
    const s = reader.header.source ?? ({} as SourceInfo);
    super({ spec, kind: 'rec', live: false, fps: s.fps, width: s.width, height: s.height, frameCount: reader.doneCount }, 'live');
  }

  get header(): RecordingHeader {
    return this.reader.header;
  }

  protected async *frames(): AsyncGenerator<Frame> {
    for (const f of this.reader.frames(this.status, (m) => this.warn(m))) {
      if (this.closed) return;
      yield f;
    }
  }

  override async close(): Promise<void> {
    await super.close();
    this.reader.close();
  }
}

export async function openRecording(path: string, opts: SourceOptions, spec: string): Promise<RecordingSource> {
  return new RecordingSource(spec, new RecordingReader(path, opts.open.salvage));
}
