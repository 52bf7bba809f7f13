// SLIP framing (RFC 1055) as pure functions, as esptool does: encode one frame,
// and a streaming decoder that yields complete frames from arbitrary chunks.

const END = 0xc0;
const ESC = 0xdb;
const ESC_END = 0xdc;
const ESC_ESC = 0xdd;

export function slipEncode(frame: Uint8Array): Uint8Array {
  const out = new Uint8Array(frame.length * 2 + 2);
  let n = 0;
  out[n++] = END;
  for (const b of frame) {
    if (b === END) {
      out[n++] = ESC;
      out[n++] = ESC_END;
    } else if (b === ESC) {
      out[n++] = ESC;
      out[n++] = ESC_ESC;
    } else out[n++] = b;
  }
  out[n++] = END;
  return out.subarray(0, n);
}

/** Streaming decoder: push bytes, get back the frames completed by them. Oversized or badly escaped frames are dropped. */
export class SlipDecoder {
  private buf: Uint8Array;
  private len = 0;
  private escaped = false;
  private dropping = false;

  constructor(readonly maxFrame = 8192) {
    this.buf = new Uint8Array(maxFrame);
  }

  push(chunk: Uint8Array): Uint8Array[] {
    const frames: Uint8Array[] = [];
    for (const b of chunk) {
      if (b === END) {
        if (this.len > 0 && !this.dropping && !this.escaped) frames.push(this.buf.slice(0, this.len));
        this.len = 0;
        this.escaped = false;
        this.dropping = false;
        continue;
      }
      if (this.dropping) continue;
      let v = b;
      if (this.escaped) {
        this.escaped = false;
        if (b === ESC_END) v = END;
        else if (b === ESC_ESC) v = ESC;
        else {
          this.dropping = true; // invalid escape: the frame is corrupt
          continue;
        }
      } else if (b === ESC) {
        this.escaped = true;
        continue;
      }
      if (this.len === this.maxFrame) {
        this.dropping = true;
        continue;
      }
      this.buf[this.len++] = v;
    }
    return frames;
  }
}
