// rec:PATH — reads .aurec recordings (docs/recording-format.md). Frames come back
// bit-exact with their original ids, timestamps, masks and metadata. A torn tail
// (crash or SIGKILL while recording) ends the stream at the last intact record
// instead of failing: everything before it replays.
import { openSync, readSync, closeSync, fstatSync } from 'node:fs';
import { crc32, inflateRawSync } from 'node:zlib';
import type { Frame, FrameMeta, SourceInfo } from '../frame.js';
import { BaseSource } from '../frame.js';
import type { SourceOptions } from '../source-options.js';
import { MAGIC, TAG_DONE, TAG_FRAME, TAG_INDEX, CODEC_DEFLATE, CODEC_RAW } from '../recorder.js';
import { FileError } from '../../common/errors.js';

export interface RecordingHeader {
  format: string;
  version: number;
  created: string;
  source: SourceInfo;
  recorder?: { aunet?: string; host?: string };
}

export interface RecordingStatus {
  /** frames read so far (all of them once iteration ends) */
  frames: number;
  /** true when the file has no clean end: it was cut short and recovered */
  recovered: boolean;
  /** bytes after the last intact record (a torn tail) */
  ignoredBytes: number;
}

/** Sequential reader over a recording's records, verifying every CRC. */
export class RecordingReader {
  readonly header: RecordingHeader;
  readonly size: number;
  /** frame count from the DONE record, when the recording ended cleanly */
  readonly doneCount: number | undefined;
  readonly #fd: number;
  readonly #dataStart: number;

  constructor(readonly path: string) {
    try {
      this.#fd = openSync(path, 'r');
    } catch (e) {
      throw new FileError(path, `cannot open recording: ${(e as Error).message}`, 'NO_FILE');
    }
    this.size = fstatSync(this.#fd).size;
    const head = this.#read(0, 12);
    if (head.length < 12 || !head.subarray(0, 8).equals(MAGIC)) {
      closeSync(this.#fd);
      throw new FileError(path, 'not an aunet recording (bad magic; expected "AUREC1")', 'BAD_RECORDING');
    }
    const len = head.readUInt32LE(8);
    const json = this.#read(12, len);
    const crc = this.#read(12 + len, 4);
    if (json.length < len || crc.length < 4 || crc.readUInt32LE(0) !== crc32(json)) {
      closeSync(this.#fd);
      throw new FileError(path, 'recording header is damaged (CRC mismatch or cut short)', 'BAD_RECORDING');
    }
    this.header = JSON.parse(json.toString('utf8')) as RecordingHeader;
    if (this.header.format !== 'aunet-recording' || this.header.version !== 1) {
      closeSync(this.#fd);
      throw new FileError(path, `unsupported recording format ${this.header.format} v${this.header.version} (this reader knows aunet-recording v1)`, 'BAD_RECORDING');
    }
    this.#dataStart = 16 + len;
    // A clean end is a 24-byte DONE record at the very end.
    this.doneCount = undefined;
    if (this.size >= this.#dataStart + 24) {
      const rec = this.#read(this.size - 24, 24);
      if (rec.toString('latin1', 0, 4) === TAG_DONE && rec.readUInt32LE(4) === 12 && rec.readUInt32LE(20) === crc32(rec.subarray(0, 20))) {
        this.doneCount = rec.readUInt32LE(8);
      }
    }
  }

  /** Yields every intact frame in order; fills `status` as it goes. */
  *frames(status: RecordingStatus): Generator<Frame> {
    let pos = this.#dataStart;
    for (;;) {
      if (pos >= this.size) break;
      const head = this.#read(pos, 8);
      if (head.length < 8) break;
      const tag = head.toString('latin1', 0, 4);
      const len = head.readUInt32LE(4);
      if (pos + 8 + len + 4 > this.size) break; // torn tail: the record never finished
      const body = this.#read(pos + 8, len);
      const crc = this.#read(pos + 8 + len, 4).readUInt32LE(0);
      if (crc !== crc32(body, crc32(head))) break; // torn or damaged: stop at the last good record
      pos += 12 + len;
      if (tag === TAG_FRAME) {
        status.frames++;
        yield this.#decodeFrame(body);
      } else if (tag === TAG_DONE) {
        status.recovered = false;
        status.ignoredBytes = this.size - pos;
        if (body.readUInt32LE(0) !== status.frames) {
          throw new FileError(this.path, `damaged: the end record counts ${body.readUInt32LE(0)} frames but ${status.frames} were read`, 'BAD_RECORDING');
        }
        return;
      } else if (tag !== TAG_INDEX) {
        /* unknown record kinds from newer writers are skipped */
      }
    }
    status.recovered = true;
    status.ignoredBytes = this.size - pos;
  }

  close(): void {
    try {
      closeSync(this.#fd);
    } catch {
      /* already closed */
    }
  }

  #decodeFrame(b: Buffer): Frame {
    const width = b.readUInt32LE(24);
    const height = b.readUInt32LE(28);
    const codec = b.readUInt8(32);
    const flags = b.readUInt8(33);
    const metaLen = b.readUInt32LE(36);
    let p = 40;
    const meta = JSON.parse(b.toString('utf8', p, p + metaLen)) as FrameMeta;
    p += metaLen;
    const take = (): Uint8Array => {
      const n = b.readUInt32LE(p);
      const data = b.subarray(p + 4, p + 4 + n);
      p += 4 + n;
      let out: Uint8Array;
      if (codec === CODEC_DEFLATE) out = new Uint8Array(inflateRawSync(data));
      else if (codec === CODEC_RAW) out = new Uint8Array(data);
      else throw new FileError(this.path, `frame uses unknown codec ${codec}`, 'BAD_RECORDING');
      if (out.length !== width * height) throw new FileError(this.path, `frame holds ${out.length} bytes for ${width}x${height}`, 'BAD_RECORDING');
      return out;
    };
    const pixels = take();
    const groundTruth = flags & 1 ? take() : undefined;
    return {
      id: b.readDoubleLE(0),
      captureTime: { monoNs: b.readBigInt64LE(8), wallMs: b.readDoubleLE(16) },
      width,
      height,
      pixels,
      groundTruth,
      meta,
    };
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

export class RecordingSource extends BaseSource {
  readonly status: RecordingStatus = { frames: 0, recovered: false, ignoredBytes: 0 };

  constructor(spec: string, private readonly reader: RecordingReader) {
    const s = reader.header.source ?? ({} as SourceInfo);
    super({ spec, kind: 'rec', live: false, fps: s.fps, width: s.width, height: s.height, frameCount: reader.doneCount }, 'live');
  }

  get header(): RecordingHeader {
    return this.reader.header;
  }

  protected async *frames(): AsyncGenerator<Frame> {
    for (const f of this.reader.frames(this.status)) {
      if (this.closed) return;
      yield f;
    }
  }

  override async close(): Promise<void> {
    await super.close();
    this.reader.close();
  }
}

export async function openRecording(path: string, _opts: SourceOptions, spec: string): Promise<RecordingSource> {
  return new RecordingSource(spec, new RecordingReader(path));
}
