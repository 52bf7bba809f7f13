// One image transfer into the inactive slot, with its chunk journal: chunks
// are written at their offsets into image.part; every JOURNAL_EVERY chunks the
// part file is fsynced and then the journal records the acknowledged prefix,
// so after a crash of either side a BEGIN of the same image resumes there.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { z } from 'zod';
import { HEADER_SIZE, MAX_MANIFEST, SIGNATURE_SIZE } from './image.js';
import { writeAtomic, type SlotName, type Storage } from './slots.js';

export const JOURNAL_EVERY = 16;

const journalSchema = z.object({
  headSha256: z.string(),
  size: z.number().int().min(0),
  chunkSize: z.number().int().min(1),
  /** leading chunks known to be on disk (fsynced) */
  durable: z.number().int().min(0),
});

export interface TransferPlan {
  slot: SlotName;
  headSha256: string;
  size: number;
  chunkSize: number;
}

export class Transfer {
  readonly chunks: number;
  private fd: number;
  private received: Uint8Array;
  /** leading chunks received (acknowledged to the host) */
  acked: number;
  private durable: number;

  private constructor(private storage: Storage, readonly plan: TransferPlan, resumeFrom: number, private onPoint: (name: string) => void) {
    this.chunks = Math.ceil(plan.size / plan.chunkSize);
    this.received = new Uint8Array(this.chunks);
    this.received.fill(1, 0, resumeFrom);
    this.acked = resumeFrom;
    this.durable = resumeFrom;
    const part = storage.partPath(plan.slot);
    this.fd = openSync(part, existsSync(part) ? 'r+' : 'w+');
  }

  /** Open a transfer: resume from the journal when it describes the same image, else start afresh. */
  static open(storage: Storage, plan: TransferPlan, onPoint: (name: string) => void = () => {}): Transfer {
    let resume = 0;
    const jp = storage.journalPath(plan.slot);
    if (existsSync(jp) && existsSync(storage.partPath(plan.slot))) {
      const j = journalSchema.safeParse(safeJson(readFileSync(jp, 'utf8')));
      if (j.success && j.data.headSha256 === plan.headSha256 && j.data.size === plan.size && j.data.chunkSize === plan.chunkSize) resume = j.data.durable;
    }
    if (resume === 0) storage.removeTransfer(plan.slot);
    const t = new Transfer(storage, plan, resume, onPoint);
    if (resume === 0) t.writeJournal();
    return t;
  }

  /** Store one chunk (idempotent); returns the cumulative acknowledgement. */
  write(index: number, bytes: Uint8Array): number {
    if (index < 0 || index >= this.chunks) throw new RangeError(`chunk ${index} outside 0..${this.chunks - 1}`);
    const expected = index === this.chunks - 1 ? this.plan.size - index * this.plan.chunkSize : this.plan.chunkSize;
    if (bytes.length !== expected) throw new RangeError(`chunk ${index} has ${bytes.length} bytes, expected ${expected}`);
    if (!this.received[index]) {
      writeSync(this.fd, bytes, 0, bytes.length, index * this.plan.chunkSize);
      this.onPoint('write-chunk');
      this.received[index] = 1;
      while (this.acked < this.chunks && this.received[this.acked]) this.acked++;
      if (this.acked - this.durable >= JOURNAL_EVERY || this.acked === this.chunks) this.sync();
    }
    return this.acked;
  }

  get complete(): boolean {
    return this.acked === this.chunks;
  }

  /** Make the acknowledged prefix durable: data first, then the journal that points at it. */
  sync(): void {
    fsyncSync(this.fd);
    this.durable = this.acked;
    this.onPoint('journal');
    this.writeJournal();
  }

  close(): void {
    closeSync(this.fd);
  }

  private writeJournal(): void {
    const { headSha256, size, chunkSize } = this.plan;
    writeAtomic(this.storage.journalPath(this.plan.slot), JSON.stringify({ headSha256, size, chunkSize, durable: this.durable }));
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/**
 * The signed head of an image (header, manifest, signature: up to 1 MiB plus
 * 128 bytes), received in HEAD pieces before BEGIN. Pieces arrive in order
 * (the host waits for each acknowledgement); a repeated piece is harmless, a
 * piece at offset 0 starts over. Held in memory only: BEGIN checks it, and a
 * transfer's journal records its hash.
 */
export class HeadBuffer {
  private buf: Uint8Array | null = null;
  private received = 0;

  /** Add a piece; returns the bytes received so far. Throws RangeError for a piece that does not fit. */
  put(total: number, offset: number, piece: Uint8Array): number {
    if (total < HEADER_SIZE + 2 + SIGNATURE_SIZE || total > HEADER_SIZE + MAX_MANIFEST + SIGNATURE_SIZE) {
      throw new RangeError(`head length ${total} is outside ${HEADER_SIZE + 2 + SIGNATURE_SIZE}..${HEADER_SIZE + MAX_MANIFEST + SIGNATURE_SIZE}`);
    }
    if (offset === 0 && (!this.buf || this.buf.length !== total || this.received > 0)) {
      this.buf = new Uint8Array(total);
      this.received = 0;
    }
    if (!this.buf || this.buf.length !== total) throw new RangeError('HEAD piece of another head: start again at offset 0');
    if (offset > this.received) throw new RangeError(`HEAD piece at ${offset}, but only ${this.received} bytes have arrived`);
    if (offset + piece.length > total) throw new RangeError(`HEAD piece ends at ${offset + piece.length}, past the head's ${total} bytes`);
    this.buf.set(piece, offset);
    this.received = Math.max(this.received, offset + piece.length);
    return this.received;
  }

  /** The complete head whose SHA-256 is `sha256`, or null. */
  take(sha256: string): Uint8Array | null {
    if (!this.buf || this.received !== this.buf.length) return null;
    return createHash('sha256').update(this.buf).digest('hex') === sha256 ? this.buf : null;
  }

  clear(): void {
    this.buf = null;
    this.received = 0;
  }
}
