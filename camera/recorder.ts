// Writes .aurec recordings (docs/recording-format.md): append-only, lossless
// (DEFLATE), with an index record + fsync every N frames or T ms, so a crash
// loses at most the frames after the last flush. A write that fails (a full
// disk, a file size limit) cuts the file back to its last whole record, tries
// to end it cleanly, and reports what was kept: the recording replays.
import { openSync, writeSync, fsyncSync, closeSync, existsSync, ftruncateSync } from 'node:fs';
import { hostname } from 'node:os';
import { crc32, deflateRawSync } from 'node:zlib';
import type { Frame, SourceInfo } from './frame.js';
import { AunetError, FileError, resourceError } from '../common/errors.js';

export const MAGIC = Buffer.from('AUREC1\r\n', 'latin1');
export const TAG_FRAME = 'FRAM';
export const TAG_INDEX = 'INDX';
export const TAG_DONE = 'DONE';
export const CODEC_RAW = 0;
export const CODEC_DEFLATE = 1;

export interface RecorderOptions {
  /** fsync an index after this many frames (default 30) */
  flushFrames?: number;
  /** ... or after this many ms since the last flush (default 1000) */
  flushMs?: number;
  /** overwrite an existing file */
  force?: boolean;
  /** called after each flush with the number of frames now safe on disk */
  onFlush?: (framesOnDisk: number) => void;
  /** DEFLATE level 0..9 (default 1: fast, lossless either way) */
  level?: number;
}

export class Recorder {
  readonly #fd: number;
  #offset = 0;
  #frames = 0;
  #unindexed: { offset: number; id: number }[] = [];
  #lastIndex = 0;
  #lastFlush = performance.now();
  #closed = false;
  /** a write failed: the file is being ended with what is whole */
  #failing = false;
  /** frames covered by an index record (safe after any crash) */
  #indexed = 0;
  readonly #opts: Required<Omit<RecorderOptions, 'onFlush'>> & Pick<RecorderOptions, 'onFlush'>;

  constructor(readonly file: string, source: SourceInfo, version: string, opts: RecorderOptions = {}) {
    this.#opts = { flushFrames: 30, flushMs: 1000, force: false, level: 1, ...opts };
    if (!opts.force && existsSync(file)) throw new FileError(file, 'already exists', 'EXISTS', { hint: 'pass --force to overwrite it, or choose another --out' });
    try {
      this.#fd = openSync(file, 'w');
    } catch (e) {
      throw new FileError(file, `cannot create recording: ${(e as Error).message}`, 'NO_FILE');
    }
    const json = Buffer.from(JSON.stringify({ format: 'aunet-recording', version: 1, created: new Date().toISOString(), source, recorder: { aunet: version, host: hostname() } }));
    const head = Buffer.alloc(12);
    MAGIC.copy(head, 0);
    head.writeUInt32LE(json.length, 8);
    const crc = Buffer.alloc(4);
    crc.writeUInt32LE(crc32(json));
    this.#write(Buffer.concat([head, json, crc]));
    fsyncSync(this.#fd);
  }

  get frames(): number {
    return this.#frames;
  }

  append(f: Frame): void {
    if (this.#closed) throw new Error('recorder is closed');
    if (f.pixels.length !== f.width * f.height) throw new Error(`frame ${f.id}: ${f.pixels.length} pixels for ${f.width}x${f.height}`);
    const meta = Buffer.from(JSON.stringify(f.meta ?? {}));
    const pixels = this.#pack(f.pixels);
    const mask = f.groundTruth ? this.#pack(f.groundTruth) : undefined;
    const fixed = Buffer.alloc(40);
    fixed.writeDoubleLE(f.id, 0);
    fixed.writeBigInt64LE(f.captureTime.monoNs, 8);
    fixed.writeDoubleLE(f.captureTime.wallMs, 16);
    fixed.writeUInt32LE(f.width, 24);
    fixed.writeUInt32LE(f.height, 28);
    fixed.writeUInt8(this.#opts.level > 0 ? CODEC_DEFLATE : CODEC_RAW, 32);
    fixed.writeUInt8(mask ? 1 : 0, 33);
    fixed.writeUInt32LE(meta.length, 36);
    const parts: Buffer[] = [fixed, meta, u32(pixels.length), pixels];
    if (mask) parts.push(u32(mask.length), mask);
    const offset = this.#offset;
    this.#record(TAG_FRAME, Buffer.concat(parts));
    this.#unindexed.push({ offset, id: f.id });
    this.#frames++;
    if (this.#unindexed.length >= this.#opts.flushFrames || performance.now() - this.#lastFlush >= this.#opts.flushMs) this.flush();
  }

  /** Write an index of the frames since the last one and fsync: they survive any crash from now on. */
  flush(): void {
    if (this.#unindexed.length > 0) {
      const body = Buffer.alloc(4 + this.#unindexed.length * 16 + 8);
      body.writeUInt32LE(this.#unindexed.length, 0);
      this.#unindexed.forEach((e, i) => {
        body.writeBigUInt64LE(BigInt(e.offset), 4 + i * 16);
        body.writeDoubleLE(e.id, 12 + i * 16);
      });
      body.writeBigUInt64LE(BigInt(this.#lastIndex), 4 + this.#unindexed.length * 16);
      const at = this.#offset;
      this.#record(TAG_INDEX, body);
      this.#lastIndex = at;
      this.#indexed += this.#unindexed.length;
      this.#unindexed = [];
    }
    fsyncSync(this.#fd);
    this.#lastFlush = performance.now();
    this.#opts.onFlush?.(this.#frames);
  }

  /** Flush, write the DONE record and close the file. */
  close(): void {
    if (this.#closed) return;
    this.#end();
    closeSync(this.#fd);
    this.#closed = true;
  }

  #end(): void {
    this.flush();
    const body = Buffer.alloc(12);
    body.writeUInt32LE(this.#frames, 0);
    body.writeBigUInt64LE(BigInt(this.#lastIndex), 4);
    this.#record(TAG_DONE, body);
    fsyncSync(this.#fd);
  }

  #pack(data: Uint8Array): Buffer {
    return this.#opts.level > 0 ? deflateRawSync(data, { level: this.#opts.level }) : Buffer.from(data);
  }

  #record(tag: string, body: Buffer): void {
    const head = Buffer.alloc(8);
    head.write(tag, 0, 'latin1');
    head.writeUInt32LE(body.length, 4);
    const crc = crc32(body, crc32(head));
    this.#write(Buffer.concat([head, body, u32(crc)]));
  }

  #write(buf: Buffer): void {
    let done = 0;
    try {
      // at an explicit position: after a failed write the file position is past the cut
      while (done < buf.length) done += writeSync(this.#fd, buf, done, buf.length - done, this.#offset + done);
    } catch (e) {
      this.#failed(e);
    }
    this.#offset += buf.length;
  }

  /**
   * A write failed: drop the partial record, try to end the file cleanly (an
   * index and the end record are small; the cut may have freed enough), else
   * leave it ending at its last whole record (a torn tail readers recover),
   * close it, and report what it keeps.
   */
  #failed(e: unknown): never {
    const truncate = () => {
      try {
        ftruncateSync(this.#fd, this.#offset);
      } catch {
        /* nothing more can be done on this disk */
      }
    };
    truncate();
    if (this.#failing) throw e; // the attempt to end cleanly failed too
    this.#failing = true;
    let clean = false;
    try {
      this.#end();
      clean = true;
    } catch {
      truncate();
    }
    try {
      fsyncSync(this.#fd);
      closeSync(this.#fd);
    } catch {
      /* closed or failing: the frames written are still there */
    }
    this.#closed = true;
    const kept = clean
      ? `it keeps the ${this.#frames} whole frames with a clean end`
      : `it keeps ${this.#frames} whole frames, ${this.#indexed} of them indexed (no clean end: readers treat the rest as a torn tail)`;
    const what = `${kept}; it replays with \`aunet replay rec:${this.file}\``;
    const known = resourceError(e, this.file);
    if (known) throw new AunetError(known.code, `${known.problem} after ${this.#frames} frames: ${what}`, { subject: this.file, cause: e });
    throw new FileError(this.file, `cannot write the recording (${(e as Error).message}) after ${this.#frames} frames: ${what}`, 'WRITE_FAILED');
  }
}

function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return b;
}
