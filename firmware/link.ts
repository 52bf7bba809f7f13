// A packet link over any byte stream (a serial port, a pty, an in-memory
// pair): SLIP framing plus CRC-checked packets. Corrupt frames vanish here;
// the protocol's timeouts and retries recover from them.
import { SlipDecoder, slipEncode } from './slip.js';
import { decodePacket, encodePacket, type Packet } from './packet.js';

/** The part of a Node stream (or SerialPort) a link needs. */
export interface ByteStream {
  write(chunk: Uint8Array): unknown;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  off(event: 'data', listener: (chunk: Buffer) => void): unknown;
}

export interface TraceOptions {
  /** print every frame in hex with time deltas (esptool's --trace) */
  trace?: (line: string) => void;
}

export class PacketLink {
  private decoder = new SlipDecoder();
  private listeners = new Set<(p: Packet) => void>();
  private last = performance.now();
  dropped = 0;
  private readonly onData = (chunk: Buffer) => {
    for (const frame of this.decoder.push(chunk)) {
      const p = decodePacket(frame);
      this.traceFrame('<', frame, p === null);
      if (!p) {
        this.dropped++;
        continue;
      }
      for (const l of this.listeners) l(p);
    }
  };

  constructor(private stream: ByteStream, private opts: TraceOptions = {}) {
    stream.on('data', this.onData);
  }

  onPacket(listener: (p: Packet) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  send(p: Packet): void {
    const frame = encodePacket(p);
    this.traceFrame('>', frame, false);
    this.stream.write(slipEncode(frame));
  }

  close(): void {
    this.stream.off('data', this.onData);
    this.listeners.clear();
  }

  private traceFrame(dir: string, frame: Uint8Array, bad: boolean): void {
    if (!this.opts.trace) return;
    const now = performance.now();
    const hex = Buffer.from(frame.subarray(0, 48)).toString('hex').replace(/(..)/g, '$1 ');
    this.opts.trace(`${dir} +${(now - this.last).toFixed(1)}ms ${frame.length}B${bad ? ' CORRUPT' : ''} ${hex}${frame.length > 48 ? '…' : ''}`);
    this.last = now;
  }
}
