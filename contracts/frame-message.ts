// The binary frame message of `aunet/<device>/frame` (docs/mqtt.md, "frame").
// Pure functions over Uint8Array/DataView with no Node-only imports: the monitor
// bundles this same file, so the writer and every reader share one definition.
import { AunetError } from '../common/errors.js';

export const FRAME_MAGIC = 0x464e5541; // 'AUNF' read as little-endian u32
export const FRAME_VERSION = 1;
export const FRAME_HEADER_BYTES = 64;
/**
 * Header length of a message that carries the lesion-present decision: the 64
 * bytes of version 1, then f32 presence score and f32 threshold. Still version
 * 1: every reader starts the sections at the header length it reads, so older
 * readers skip the two fields (docs/mqtt.md).
 */
export const FRAME_DECISION_HEADER_BYTES = 72;
/** flag bit 4: the decision fields are present; bit 5: the decision is "lesion" */
export const FLAG_DECISION = 0x10;
export const FLAG_LESION = 0x20;
/** Contour limits (docs/mqtt.md): keeps the message under 64 KiB at 160 x 160. */
export const MAX_POLYGONS = 8;
export const MAX_CONTOUR_POINTS = 512;

export type GateMaps = [Uint8Array | null, Uint8Array | null, Uint8Array | null, Uint8Array | null];

/** One outline: flat [x0, y0, x1, y1, ...] in model pixels. */
export type Polygon = Uint16Array;

export const FRAME_STATES = ['warming', 'live', 'degraded'] as const;
export type FrameState = (typeof FRAME_STATES)[number];

/** Where the image content lies inside the frame (letterbox); the whole frame when stretched. */
export interface ContentRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface FrameMessage {
  frameId: number;
  /** wall ms since the Unix epoch */
  captureTime: number;
  publishTime: number;
  /** chip-model cycles, 0 when not modelled */
  cycles: number;
  /** fraction of pixels in the mask, 0..1 */
  lesionArea: number;
  /** mean probability over mask pixels (0..1), 0 for an empty mask */
  meanConfidence: number;
  width: number;
  height: number;
  /** mask = prob > threshold (0..255) */
  threshold: number;
  state: FrameState;
  content: ContentRect;
  /** W*H grey pixels */
  frame: Uint8Array;
  /** W*H bytes, 0 or 1 (bit-packed on the wire) */
  mask: Uint8Array;
  /** W*H bytes, v / 256 */
  prob: Uint8Array;
  /** a1..a4 (null = not published); a_k is (W >> (5-k)) x (H >> (5-k)) */
  attention: GateMaps;
  contours: Polygon[];
  /**
   * The lesion-present decision (models/lesion-decision.ts): on a frame decided
   * "no lesion" the box publishes no outline, and the monitor says so.
   * Absent in messages of boxes from before the decision.
   */
  decision?: FrameDecision;
}

export interface FrameDecision {
  lesion: boolean;
  /** presence score: mean of the highest probabilities (0..1) */
  score: number;
  /** lesion when score >= threshold */
  threshold: number;
}

export class PayloadError extends AunetError {
  constructor(message: string) {
    super('BAD_FRAME_MESSAGE', message);
    this.name = 'PayloadError';
  }
}

/** Width and height of attention map a_k (k = 1..4) for a W x H model. */
export function gateSize(k: number, width: number, height: number): { width: number; height: number } {
  const s = 5 - k;
  return { width: width >> s, height: height >> s };
}

/** Total byte length of a message with these parts (for size budgeting before encoding). */
export function frameMessageBytes(width: number, height: number, gates: readonly boolean[], contourBytes: number): number {
  const px = width * height;
  let n = FRAME_HEADER_BYTES + px + Math.ceil(px / 8) + px + contourBytes;
  for (let k = 1; k <= 4; k++) {
    if (gates[k - 1]) {
      const g = gateSize(k, width, height);
      n += g.width * g.height;
    }
  }
  return n;
}

/** Byte length of the contour section for these polygons. */
export function contourBytes(polys: readonly Polygon[]): number {
  let n = 2;
  for (const p of polys) n += 2 + p.length * 2;
  return n;
}

export function encodeFrameMessage(m: FrameMessage): Uint8Array {
  const { width: W, height: H } = m;
  const px = W * H;
  if (!Number.isInteger(W) || !Number.isInteger(H) || W < 16 || H < 16 || W > 0xffff || H > 0xffff) {
    throw new PayloadError(`frame size ${W}x${H} out of range (16..65535)`);
  }
  for (const [name, arr] of [['frame', m.frame], ['mask', m.mask], ['prob', m.prob]] as const) {
    if (arr.length !== px) throw new PayloadError(`${name} has ${arr.length} bytes, expected ${W}x${H} = ${px}`);
  }
  if (m.contours.length > MAX_POLYGONS) throw new PayloadError(`${m.contours.length} polygons, at most ${MAX_POLYGONS}`);
  let points = 0;
  for (const p of m.contours) {
    if (p.length % 2) throw new PayloadError('a polygon needs an even number of coordinates');
    points += p.length / 2;
  }
  if (points > MAX_CONTOUR_POINTS) throw new PayloadError(`${points} contour points, at most ${MAX_CONTOUR_POINTS}`);
  const gates = m.attention.map((a) => a !== null);
  const cBytes = contourBytes(m.contours);
  const headerBytes = m.decision ? FRAME_DECISION_HEADER_BYTES : FRAME_HEADER_BYTES;
  const out = new Uint8Array(frameMessageBytes(W, H, gates, cBytes) - FRAME_HEADER_BYTES + headerBytes);
  const dv = new DataView(out.buffer);
  let flags = 0;
  gates.forEach((g, i) => (flags |= g ? 1 << i : 0));
  if (m.decision) {
    flags |= FLAG_DECISION | (m.decision.lesion ? FLAG_LESION : 0);
    dv.setFloat32(64, m.decision.score, true);
    dv.setFloat32(68, m.decision.threshold, true);
  }
  dv.setUint32(0, FRAME_MAGIC, true);
  dv.setUint8(4, FRAME_VERSION);
  dv.setUint8(5, flags);
  dv.setUint16(6, headerBytes, true);
  dv.setFloat64(8, m.frameId, true);
  dv.setFloat64(16, m.captureTime, true);
  dv.setFloat64(24, m.publishTime, true);
  dv.setFloat64(32, m.cycles, true);
  dv.setFloat32(40, m.lesionArea, true);
  dv.setFloat32(44, m.meanConfidence, true);
  dv.setUint16(48, W, true);
  dv.setUint16(50, H, true);
  dv.setUint8(52, m.threshold);
  dv.setUint8(53, FRAME_STATES.indexOf(m.state));
  dv.setUint16(54, cBytes, true);
  dv.setUint16(56, m.content.x, true);
  dv.setUint16(58, m.content.y, true);
  dv.setUint16(60, m.content.width, true);
  dv.setUint16(62, m.content.height, true);
  let o = headerBytes;
  out.set(m.frame, o);
  o += px;
  packBits(m.mask, out, o);
  o += Math.ceil(px / 8);
  out.set(m.prob, o);
  o += px;
  for (let k = 1; k <= 4; k++) {
    const a = m.attention[k - 1];
    if (!a) continue;
    const g = gateSize(k, W, H);
    if (a.length !== g.width * g.height) throw new PayloadError(`a${k} has ${a.length} bytes, expected ${g.width}x${g.height}`);
    out.set(a, o);
    o += a.length;
  }
  dv.setUint16(o, m.contours.length, true);
  o += 2;
  for (const p of m.contours) {
    dv.setUint16(o, p.length / 2, true);
    o += 2;
    for (let i = 0; i < p.length; i++, o += 2) dv.setUint16(o, p[i], true);
  }
  return out;
}

/**
 * Decode and check a frame message. Views into `bytes` are returned for frame,
 * prob and the attention maps (no copies); the mask is unpacked to one byte per pixel.
 */
export function decodeFrameMessage(bytes: Uint8Array): FrameMessage {
  if (bytes.length < FRAME_HEADER_BYTES) throw new PayloadError(`message of ${bytes.length} bytes is shorter than the ${FRAME_HEADER_BYTES}-byte header`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dv.getUint32(0, true) !== FRAME_MAGIC) throw new PayloadError('not an aunet frame message (bad magic)');
  const version = dv.getUint8(4);
  if (version !== FRAME_VERSION) throw new PayloadError(`unsupported frame message version ${version} (this reader knows ${FRAME_VERSION})`);
  const flags = dv.getUint8(5);
  const headerBytes = dv.getUint16(6, true);
  if (headerBytes < FRAME_HEADER_BYTES) throw new PayloadError(`header length ${headerBytes} < ${FRAME_HEADER_BYTES}`);
  const W = dv.getUint16(48, true);
  const H = dv.getUint16(50, true);
  const stateCode = dv.getUint8(53);
  if (stateCode >= FRAME_STATES.length) throw new PayloadError(`unknown state code ${stateCode}`);
  const cBytes = dv.getUint16(54, true);
  const gates = [0, 1, 2, 3].map((i) => (flags & (1 << i)) !== 0);
  const expected = frameMessageBytes(W, H, gates, cBytes) - FRAME_HEADER_BYTES + headerBytes;
  if (bytes.length !== expected) {
    throw new PayloadError(`message is ${bytes.length} bytes, expected ${expected} for ${W}x${H}, gates ${flags & 15}, contour ${cBytes}`);
  }
  const px = W * H;
  let o = headerBytes;
  const frame = bytes.subarray(o, o + px);
  o += px;
  const mask = unpackBits(bytes.subarray(o, o + Math.ceil(px / 8)), px);
  o += Math.ceil(px / 8);
  const prob = bytes.subarray(o, o + px);
  o += px;
  const attention: GateMaps = [null, null, null, null];
  for (let k = 1; k <= 4; k++) {
    if (!gates[k - 1]) continue;
    const g = gateSize(k, W, H);
    attention[k - 1] = bytes.subarray(o, o + g.width * g.height);
    o += g.width * g.height;
  }
  const contours = readContours(dv, o, cBytes);
  let decision: FrameDecision | undefined;
  if (flags & FLAG_DECISION) {
    if (headerBytes < FRAME_DECISION_HEADER_BYTES) throw new PayloadError(`decision flag set but the header is ${headerBytes} bytes, under ${FRAME_DECISION_HEADER_BYTES}`);
    decision = { lesion: (flags & FLAG_LESION) !== 0, score: dv.getFloat32(64, true), threshold: dv.getFloat32(68, true) };
  } else if (flags & FLAG_LESION) {
    throw new PayloadError('lesion flag set without the decision flag');
  }
  return {
    frameId: dv.getFloat64(8, true),
    captureTime: dv.getFloat64(16, true),
    publishTime: dv.getFloat64(24, true),
    cycles: dv.getFloat64(32, true),
    lesionArea: dv.getFloat32(40, true),
    meanConfidence: dv.getFloat32(44, true),
    width: W,
    height: H,
    threshold: dv.getUint8(52),
    state: FRAME_STATES[stateCode],
    content: { x: dv.getUint16(56, true), y: dv.getUint16(58, true), width: dv.getUint16(60, true), height: dv.getUint16(62, true) },
    frame,
    mask,
    prob,
    attention,
    contours,
    ...(decision ? { decision } : {}),
  };
}

function readContours(dv: DataView, start: number, length: number): Polygon[] {
  const end = start + length;
  if (length < 2) throw new PayloadError('contour section shorter than its polygon count');
  const n = dv.getUint16(start, true);
  if (n > MAX_POLYGONS) throw new PayloadError(`${n} polygons, at most ${MAX_POLYGONS}`);
  let o = start + 2;
  const polys: Polygon[] = [];
  for (let i = 0; i < n; i++) {
    if (o + 2 > end) throw new PayloadError('contour section truncated');
    const count = dv.getUint16(o, true);
    o += 2;
    if (o + count * 4 > end) throw new PayloadError('contour section truncated');
    const p = new Uint16Array(count * 2);
    for (let j = 0; j < p.length; j++, o += 2) p[j] = dv.getUint16(o, true);
    polys.push(p);
  }
  if (o !== end) throw new PayloadError(`contour section has ${end - o} bytes left over`);
  return polys;
}

/**
 * A copy of an encoded frame message with a new frame id, capture and publish
 * time (header offsets 8, 16, 24), everything else as recorded: the fleet
 * simulator and the benchmarks replay recorded messages as if they were new.
 */
export function restampFrameMessage(bytes: Uint8Array, frameId: number, captureTime: number, publishTime: number): Uint8Array {
  if (bytes.length < FRAME_HEADER_BYTES) throw new PayloadError(`frame message of ${bytes.length} bytes is shorter than its header`);
  const out = bytes.slice();
  const dv = new DataView(out.buffer);
  if (dv.getUint32(0, true) !== FRAME_MAGIC) throw new PayloadError('frame message: bad magic (expected AUNF)');
  dv.setFloat64(8, frameId, true);
  dv.setFloat64(16, captureTime, true);
  dv.setFloat64(24, publishTime, true);
  return out;
}

/** 0/1 bytes -> bits, most significant first (pixel p = bit 7 - (p & 7) of byte p >> 3). */
export function packBits(mask: Uint8Array, out: Uint8Array, offset: number): void {
  const n = mask.length;
  for (let p = 0; p < n; p += 8) {
    let b = 0;
    for (let j = 0; j < 8 && p + j < n; j++) if (mask[p + j]) b |= 0x80 >> j;
    out[offset + (p >> 3)] = b;
  }
}

export function unpackBits(bits: Uint8Array, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let p = 0; p < n; p++) out[p] = (bits[p >> 3] >> (7 - (p & 7))) & 1;
  return out;
}
