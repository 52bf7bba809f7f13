// A file of recorded frame messages (`aunet fleet record`, replayed by
// `aunet fleet simulate`; docs/fleet.md): the 8 bytes `AUMSGS01`, then per
// message a u32 little-endian length and the message's bytes exactly as the
// live service published them. Every message is checked on reading, so a
// damaged file is named, not replayed as garbage.
import { writeFileSync } from 'node:fs';
import { FileError } from '../../common/errors.js';
import { readInputFile } from '../../common/input-file.js';
import { decodeFrameMessage } from '../../contracts/frame-message.js';

const MAGIC = Buffer.from('AUMSGS01', 'latin1');

export function writeMessageRecording(file: string, messages: readonly Uint8Array[]): void {
  const parts: Buffer[] = [MAGIC];
  for (const m of messages) {
    const len = Buffer.alloc(4);
    len.writeUInt32LE(m.length);
    parts.push(len, Buffer.from(m.buffer, m.byteOffset, m.byteLength));
  }
  try {
    writeFileSync(file, Buffer.concat(parts));
  } catch (e) {
    throw new FileError(file, `cannot write the recording: ${(e as Error).message}`, 'WRITE_FAILED');
  }
}

export function readMessageRecording(file: string): Uint8Array[] {
  const b = readInputFile(file, 'a recording of frame messages (aunet fleet record)');
  if (b.length < 8 || !b.subarray(0, 8).equals(MAGIC)) throw new FileError(file, 'not a recording of frame messages (no AUMSGS01 header); make one with `aunet fleet record`');
  const out: Uint8Array[] = [];
  let o = 8;
  while (o < b.length) {
    if (o + 4 > b.length) throw new FileError(file, `ends inside the length of message ${out.length + 1}`, 'TRUNCATED');
    const n = b.readUInt32LE(o);
    o += 4;
    if (o + n > b.length) throw new FileError(file, `message ${out.length + 1} needs ${n} bytes, ${b.length - o} left`, 'TRUNCATED');
    const m = new Uint8Array(b.subarray(o, o + n));
    try {
      decodeFrameMessage(m);
    } catch (e) {
      throw new FileError(file, `message ${out.length + 1} is not a frame message: ${(e as Error).message}`);
    }
    out.push(m);
    o += n;
  }
  if (!out.length) throw new FileError(file, 'holds no messages', 'EMPTY');
  return out;
}
