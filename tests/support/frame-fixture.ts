// A frame message with every field set from a seed, for codec tests and for
// the monitor tests that publish frames themselves (no model needed).
import { gateSize, type FrameMessage, type GateMaps } from '../../contracts/frame-message.js';

export function testFrameMessage(W: number, H: number, gates = [true, true, true, true], seed = 1): FrameMessage {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
  const fill = (n: number) => Uint8Array.from({ length: n }, rnd);
  const attention = gates.map((g, i) => {
    if (!g) return null;
    const { width, height } = gateSize(i + 1, W, H);
    return fill(width * height);
  }) as GateMaps;
  const prob = fill(W * H);
  return {
    frameId: 123456789,
    captureTime: 1764230400123.25,
    publishTime: 1764230400140.5,
    cycles: 9_876_543_210,
    lesionArea: 0.125,
    meanConfidence: 0.75,
    width: W,
    height: H,
    threshold: 128,
    state: 'live',
    content: { x: 0, y: 8, width: W, height: H - 16 },
    frame: fill(W * H),
    mask: prob.map((v) => (v > 128 ? 1 : 0)),
    prob,
    attention,
    contours: [Uint16Array.from([1, 2, 3, 4, 5, 6]), Uint16Array.from([10, 10])],
  };
}
