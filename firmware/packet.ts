// Protocol frames inside SLIP: direction, command, sequence, length, payload,
// CRC-32 (docs/serial-protocol.md). Pure encode/decode; decode returns null
// for anything malformed, because a corrupt frame is dropped, not answered.
import { crc32 } from 'node:zlib';

export const REQUEST = 0x01;
export const RESPONSE = 0x02;
const HEAD = 6;

export interface Packet {
  direction: typeof REQUEST | typeof RESPONSE;
  command: number;
  seq: number;
  payload: Uint8Array;
}

export function encodePacket(p: Packet): Uint8Array {
  if (p.payload.length > 0xffff) throw new Error(`payload of ${p.payload.length} bytes exceeds the 65535-byte frame limit`);
  const out = Buffer.alloc(HEAD + p.payload.length + 4);
  out[0] = p.direction;
  out[1] = p.command;
  out.writeUInt16LE(p.seq & 0xffff, 2);
  out.writeUInt16LE(p.payload.length, 4);
  out.set(p.payload, HEAD);
  out.writeUInt32LE(crc32(out.subarray(0, HEAD + p.payload.length)), HEAD + p.payload.length);
  return out;
}

export function decodePacket(frame: Uint8Array): Packet | null {
  if (frame.length < HEAD + 4) return null;
  const b = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  const direction = b[0];
  if (direction !== REQUEST && direction !== RESPONSE) return null;
  const len = b.readUInt16LE(4);
  if (frame.length !== HEAD + len + 4) return null;
  if (crc32(b.subarray(0, HEAD + len)) !== b.readUInt32LE(HEAD + len)) return null;
  return { direction, command: b[1], seq: b.readUInt16LE(2), payload: Uint8Array.prototype.slice.call(b, HEAD, HEAD + len) };
}
