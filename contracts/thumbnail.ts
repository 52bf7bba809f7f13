// The thumbnail message of `aunet/<device>/thumb` (docs/mqtt.md, "thumb"): a
// small grey picture of what the model saw plus its lesion mask, about once a
// second, for the fleet view. Full frame messages for every tile of a fleet
// would be ~42 KB x 30 fps x N (hundreds of MB/s at N = 200); a thumbnail of
// at most 64 x 64 is under 5 KB at 1 Hz. A raw 8-bit picture with a tiny
// header rather than PNG/JPEG: no codec on either side, and the bytes are
// already smaller than a JPEG's headers and tables at this size.
// Pure functions (the monitor bundles this file).
import { PayloadError, packBits, unpackBits, type FrameMessage } from './frame-message.js';

export const THUMB_MAGIC = 0x544e5541; // 'AUNT' read as little-endian u32
export const THUMB_VERSION = 1;
export const THUMB_HEADER_BYTES = 32;
/** Longest side of a thumbnail in pixels. */
export const THUMB_MAX_SIDE = 64;
/** Default period of the thumb topic (publish.thumbnailIntervalMs). */
export const THUMB_INTERVAL_MS = 1000;

export interface Thumbnail {
  frameId: number;
  /** wall ms since the Unix epoch, from the frame */
  captureTime: number;
  width: number;
  height: number;
  /** fraction of the frame in the lesion mask, 0..1 */
  lesionArea: number;
  /** width*height grey pixels, row-major */
  grey: Uint8Array;
  /** width*height bytes, 0 or 1 (bit-packed on the wire, most significant bit first) */
  mask: Uint8Array;
}

/** Size of a thumbnail of a content rectangle cw x ch: longest side THUMB_MAX_SIDE, aspect kept, never upscaled. */
export function thumbnailSize(cw: number, ch: number): { width: number; height: number } {
  const k = Math.min(1, THUMB_MAX_SIDE / Math.max(cw, ch));
  return { width: Math.max(1, Math.round(cw * k)), height: Math.max(1, Math.round(ch * k)) };
}

/**
 * The thumbnail of a frame: the image content (letterbox cut off) averaged
 * down box by box; a thumbnail pixel is lesion when the frame pixel at its
 * centre is (nearest, so thin outlines of small lesions stay visible as dots).
 */
export function thumbnailOf(m: FrameMessage): Thumbnail {
  const c = m.content.width > 0 && m.content.height > 0 ? m.content : { x: 0, y: 0, width: m.width, height: m.height };
  const { width, height } = thumbnailSize(c.width, c.height);
  const grey = new Uint8Array(width * height);
  const mask = new Uint8Array(width * height);
  for (let ty = 0; ty < height; ty++) {
    const y0 = c.y + Math.floor((ty * c.height) / height);
    const y1 = Math.max(y0 + 1, c.y + Math.floor(((ty + 1) * c.height) / height));
    const yc = c.y + Math.floor(((ty + 0.5) * c.height) / height);
    for (let tx = 0; tx < width; tx++) {
      const x0 = c.x + Math.floor((tx * c.width) / width);
      const x1 = Math.max(x0 + 1, c.x + Math.floor(((tx + 1) * c.width) / width));
      let sum = 0;
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) sum += m.frame[y * m.width + x];
      grey[ty * width + tx] = Math.round(sum / ((y1 - y0) * (x1 - x0)));
      mask[ty * width + tx] = m.mask[yc * m.width + c.x + Math.floor(((tx + 0.5) * c.width) / width)];
    }
  }
  return { frameId: m.frameId, captureTime: m.captureTime, width, height, lesionArea: m.lesionArea, grey, mask };
}

export function encodeThumbnail(t: Thumbnail): Uint8Array {
  const px = t.width * t.height;
  const out = new Uint8Array(THUMB_HEADER_BYTES + px + Math.ceil(px / 8));
  const dv = new DataView(out.buffer);
  dv.setUint32(0, THUMB_MAGIC, true);
  dv.setUint8(4, THUMB_VERSION);
  dv.setUint8(5, 1); // flags: bit 0 = mask section present
  dv.setUint16(6, THUMB_HEADER_BYTES, true);
  dv.setFloat64(8, t.frameId, true);
  dv.setFloat64(16, t.captureTime, true);
  dv.setUint16(24, t.width, true);
  dv.setUint16(26, t.height, true);
  dv.setFloat32(28, t.lesionArea, true);
  out.set(t.grey, THUMB_HEADER_BYTES);
  packBits(t.mask, out, THUMB_HEADER_BYTES + px);
  return out;
}

/** Parse a thumbnail message; throws PayloadError naming what is wrong. */
export function decodeThumbnail(bytes: Uint8Array): Thumbnail {
  if (bytes.length < THUMB_HEADER_BYTES) throw new PayloadError(`thumbnail message of ${bytes.length} bytes is shorter than its ${THUMB_HEADER_BYTES}-byte header`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dv.getUint32(0, true) !== THUMB_MAGIC) throw new PayloadError('thumbnail message: bad magic (expected AUNT)');
  if (dv.getUint8(4) !== THUMB_VERSION) throw new PayloadError(`thumbnail message: version ${dv.getUint8(4)}, this reader knows ${THUMB_VERSION}`);
  const flags = dv.getUint8(5);
  const header = dv.getUint16(6, true);
  const width = dv.getUint16(24, true);
  const height = dv.getUint16(26, true);
  if (header < THUMB_HEADER_BYTES) throw new PayloadError(`thumbnail message: header length ${header} < ${THUMB_HEADER_BYTES}`);
  if (width < 1 || height < 1 || width > THUMB_MAX_SIDE || height > THUMB_MAX_SIDE) throw new PayloadError(`thumbnail message: size ${width}x${height} outside 1..${THUMB_MAX_SIDE}`);
  const px = width * height;
  const hasMask = (flags & 1) !== 0;
  const expected = header + px + (hasMask ? Math.ceil(px / 8) : 0);
  if (bytes.length !== expected) throw new PayloadError(`thumbnail message of ${bytes.length} bytes; ${width}x${height} needs ${expected}`);
  const grey = bytes.slice(header, header + px);
  const mask = hasMask ? unpackBits(bytes.subarray(header + px), px) : new Uint8Array(px);
  return { frameId: dv.getFloat64(8, true), captureTime: dv.getFloat64(16, true), width, height, lesionArea: dv.getFloat32(28, true), grey, mask };
}
