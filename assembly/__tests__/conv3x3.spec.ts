// conv3x3 and conv1x1 on tiny hand-checked cases (the node:test suite compares
// against the TypeScript reference on random data; these pin the arithmetic).
import { conv3x3, convRunPad } from '../kernels/conv3x3';
import { conv1x1, conv1x1Pad } from '../kernels/conv1x1';

const scratch = heap.alloc(1 << 16);
const SCRATCH_BYTES = 1 << 16;

/**
 * packed layout of one output channel (channel 0 of a group of 4): the 9*cin window values as
 * i16 padded to a multiple of 8, in slices of 8 that sit beside the group's 3 other (zero) channels
 */
function packOnes3x3(dst: usize, cin: i32, value: i16): void {
  const run = convRunPad(cin);
  memory.fill(dst, 0, 4 * run * 2);
  for (let i = 0; i < 9 * cin; i++) store<i16>(dst + (((i >> 3) * 32 + (i & 7)) << 1), value);
}

describe('packed weight layout (host/kernels/weight-packing.ts packs the same)', () => {
  it('pads each run of i16 weights to whole vectors of 8', () => {
    expect<i32>(convRunPad(1)).toBe(16);
    expect<i32>(convRunPad(3)).toBe(32);
    expect<i32>(convRunPad(8)).toBe(72);
    expect<i32>(conv1x1Pad(1)).toBe(8);
    expect<i32>(conv1x1Pad(16)).toBe(16);
    expect<i32>(conv1x1Pad(17)).toBe(24);
  });
});

describe('conv3x3', () => {
  it('sums the 3x3 window, padding counts as the input zero point', () => {
    // 3x3x1 input of 1..9 with zp 1 -> values 0..8; all-ones kernel; identity requant (M 2^30, shift 1)
    const inp = heap.alloc(16), out = heap.alloc(16), w = heap.alloc(192), b = heap.alloc(4), m = heap.alloc(4), s = heap.alloc(4);
    for (let i = 0; i < 9; i++) store<i8>(inp + i, i8(i + 1));
    packOnes3x3(w, 1, 1);
    store<i32>(b, 0); store<i32>(m, 1 << 30); store<i32>(s, 1);
    conv3x3(inp, 3, 3, 1, 1, out, 3, 3, 1, 1, 1, 1, 1, w, b, m, s, 0, -128, 127, 0, scratch, SCRATCH_BYTES);
    // centre: 0+1+...+8 = 36; corner (0,0): 0+1+3+4 = 8; edge (0,1): 0+1+2+3+4+5 = 15
    expect<i8>(load<i8>(out + 4)).toBe(36);
    expect<i8>(load<i8>(out + 0)).toBe(8);
    expect<i8>(load<i8>(out + 1)).toBe(15);
    expect<i8>(load<i8>(out + 8)).toBe(4 + 5 + 7 + 8);
  });
  it('stride 2 with Keras padding [0,0,1,1] reads only bottom/right padding', () => {
    const inp = heap.alloc(16), out = heap.alloc(16), w = heap.alloc(192), b = heap.alloc(4), m = heap.alloc(4), s = heap.alloc(4);
    for (let i = 0; i < 16; i++) store<i8>(inp + i, i8(i)); // 4x4, zp 0
    packOnes3x3(w, 1, 1);
    store<i32>(b, 0); store<i32>(m, 1 << 30); store<i32>(s, 0); // x0.5
    conv3x3(inp, 4, 4, 1, 0, out, 2, 2, 1, 1, 2, 0, 0, w, b, m, s, 0, -128, 127, 0, scratch, SCRATCH_BYTES);
    // (0,0): rows 0-2, cols 0-2 = 0+1+2+4+5+6+8+9+10 = 45 -> 22.5 -> 23
    expect<i8>(load<i8>(out + 0)).toBe(23);
    // (1,1): rows 2-3 (+pad), cols 2-3 (+pad) = 10+11+14+15 = 50 -> 25
    expect<i8>(load<i8>(out + 3)).toBe(25);
  });
  it('applies bias, zero point and the ReLU clamp', () => {
    const inp = heap.alloc(16), out = heap.alloc(16), w = heap.alloc(192), b = heap.alloc(4), m = heap.alloc(4), s = heap.alloc(4);
    store<i8>(inp, 10);
    packOnes3x3(w, 1, -2);
    store<i32>(b, 5); store<i32>(m, 1 << 30); store<i32>(s, 1);
    conv3x3(inp, 1, 1, 1, 0, out, 1, 1, 1, 1, 1, 1, 1, w, b, m, s, -20, -20, 127, 0, scratch, SCRATCH_BYTES);
    expect<i8>(load<i8>(out)).toBe(-20); // 5 - 20 = -15 - 20 -> clamped to -20
  });
});

describe('conv1x1', () => {
  it('is a per-pixel dot product with the input zero point removed', () => {
    const inp = heap.alloc(16), out = heap.alloc(16), w = heap.alloc(64), b = heap.alloc(8), m = heap.alloc(8), s = heap.alloc(8);
    store<i8>(inp, 3); store<i8>(inp + 1, 5); store<i8>(inp + 2, -1); store<i8>(inp + 3, 7); // 2 pixels x 2 ch, zp 1
    memory.fill(w, 0, 32);
    store<i16>(w, 1); store<i16>(w + 2, 2); // channel 0: [1, 2]
    store<i16>(w + 16, -1); store<i16>(w + 18, 1); // channel 1: [-1, 1]
    store<i32>(b, 0); store<i32>(b + 4, 100);
    store<i32>(m, 1 << 30); store<i32>(m + 4, 1 << 30); store<i32>(s, 1); store<i32>(s + 4, 1);
    conv1x1(inp, 2, 2, 1, out, 2, 2, w, b, m, s, 0, -128, 127);
    expect<i8>(load<i8>(out)).toBe(2 + 8); // (3-1) + 2*(5-1)
    expect<i8>(load<i8>(out + 1)).toBe(-2 + 4 + 100);
    expect<i8>(load<i8>(out + 2)).toBe(-2 + 12);
    expect<i8>(load<i8>(out + 3)).toBe(2 + 6 + 100);
  });
});
