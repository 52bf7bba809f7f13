// A size gate on an MQTT connection stream, in front of the broker's parser.
// aedes 1.x has no packet-size option and its parser (mqtt-packet) buffers a
// PUBLISH until it is whole, so a client announcing 250 MiB makes the broker
// hold 250 MiB. The gate reads each packet's fixed header as the bytes pass
// (type byte, then the 1-4 byte remaining length) and destroys the connection
// as soon as a remaining length over the limit is announced: the body is never
// buffered. The limit is asked per packet, so it can follow the client's role
// once it has signed in (broker-policy.ts, packetLimit). Independent of aedes:
// a bridge can put the same gate on its browser-side streams.
import { Duplex } from 'node:stream';

const TYPE = 0;
const LENGTH = 1;
const BODY = 2;

/** Why the gate closed a connection. */
export interface GateRefusal {
  /** the remaining length announced (bytes), or -1 for a malformed length */
  announced: number;
  limit: number;
}

/**
 * Reads MQTT fixed headers as a connection's bytes pass, without keeping any:
 * `scan` returns a refusal as soon as a packet announces a remaining length
 * over `limit()` (asked per packet) or a malformed length. Used by the gate
 * below (the embedded broker) and by the monitor's MQTT bridge on its
 * browser-side WebSocket messages.
 */
export class PacketLengthReader {
  #state = TYPE;
  #length = 0;
  #multiplier = 1;
  #lengthBytes = 0;
  #remaining = 0;

  constructor(readonly limit: () => number) {}

  scan(chunk: Uint8Array): GateRefusal | null {
    let i = 0;
    while (i < chunk.length) {
      if (this.#state === BODY) {
        const take = Math.min(this.#remaining, chunk.length - i);
        this.#remaining -= take;
        i += take;
        if (this.#remaining === 0) this.#state = TYPE;
      } else if (this.#state === TYPE) {
        this.#state = LENGTH;
        this.#length = 0;
        this.#multiplier = 1;
        this.#lengthBytes = 0;
        i++;
      } else {
        const b = chunk[i++];
        this.#length += (b & 0x7f) * this.#multiplier;
        this.#multiplier *= 128;
        this.#lengthBytes++;
        if (b & 0x80) {
          if (this.#lengthBytes === 4) return { announced: -1, limit: this.limit() };
          continue;
        }
        const limit = this.limit();
        if (this.#length > limit) return { announced: this.#length, limit };
        this.#remaining = this.#length;
        this.#state = this.#remaining > 0 ? BODY : TYPE;
      }
    }
    return null;
  }
}

/**
 * Wraps `inner` (a socket, a WebSocket stream): reads pass through the gate,
 * writes go straight to `inner`; `backlog` counts what waits in both.
 */
export class PacketSizeGate extends Duplex {
  readonly #reader: PacketLengthReader;
  /** set once the gate has closed the connection */
  refusal: GateRefusal | null = null;

  constructor(
    readonly inner: Duplex,
    readonly limit: () => number,
    readonly onRefused: (r: GateRefusal) => void = () => {},
  ) {
    super({ allowHalfOpen: false });
    this.#reader = new PacketLengthReader(limit);
    inner.on('data', (chunk: Buffer) => {
      if (this.refusal) return;
      const r = this.#reader.scan(chunk);
      if (r) {
        this.refusal = r;
        this.onRefused(r);
        inner.destroy();
        this.destroy();
        return;
      }
      if (!this.push(chunk)) inner.pause();
    });
    inner.on('end', () => this.push(null));
    inner.on('error', (e) => this.destroy(e));
    inner.on('close', () => this.destroy());
  }

  /** bytes written but not yet handed to the kernel: the gate's buffer and the inner stream's */
  get backlog(): number {
    return this.writableLength + this.inner.writableLength;
  }

  override _read(): void {
    this.inner.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    if (this.inner.destroyed) return cb();
    if (this.inner.write(chunk)) cb();
    else this.inner.once('drain', () => cb());
  }

  // mqtt-packet corks the stream around each packet: pass the pieces on as one corked write
  override _writev(chunks: { chunk: Buffer }[], cb: (e?: Error | null) => void): void {
    if (this.inner.destroyed) return cb();
    this.inner.cork();
    let ok = true;
    for (const { chunk } of chunks) ok = this.inner.write(chunk);
    this.inner.uncork();
    if (ok) cb();
    else this.inner.once('drain', () => cb());
  }

  override _final(cb: (e?: Error | null) => void): void {
    this.inner.end();
    cb();
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    this.inner.destroy();
    cb(err);
  }
}
