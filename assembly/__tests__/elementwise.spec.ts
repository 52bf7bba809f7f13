// Element-wise kernels and the DMA box copy on small hand-checked cases.
import { maxpool2x2 } from '../kernels/maxpool2x2';
import { upsample2x } from '../kernels/upsample2x';
import { requantCopy } from '../kernels/concat';
import { gateMul } from '../kernels/gate';
import { lut } from '../kernels/sigmoid';
import { add } from '../kernels/add';
import { affine } from '../kernels/affine';
import { copyBox } from '../kernels/dma';

describe('maxpool2x2 / upsample2x', () => {
  it('pools the max of each 2x2 block and drops an odd last column', () => {
    const inp = heap.alloc(16), out = heap.alloc(16);
    const v: i8[] = [1, -5, 3, 9, 2, 0, -7, -8, 4, 6, 5, 1]; // 2x3x2 rows: [(1,-5),(3,9),(2,0)] [(-7,-8),(4,6),(5,1)]
    for (let i = 0; i < v.length; i++) store<i8>(inp + i, v[i]);
    maxpool2x2(inp, 2, 3, 2, out);
    expect<i8>(load<i8>(out)).toBe(4);
    expect<i8>(load<i8>(out + 1)).toBe(9);
  });
  it('repeats each pixel into a 2x2 block', () => {
    const inp = heap.alloc(16), out = heap.alloc(16);
    store<i8>(inp, 7); store<i8>(inp + 1, -3);
    upsample2x(inp, 1, 2, 1, out);
    expect<i8>(load<i8>(out)).toBe(7); expect<i8>(load<i8>(out + 1)).toBe(7);
    expect<i8>(load<i8>(out + 2)).toBe(-3); expect<i8>(load<i8>(out + 7)).toBe(-3);
    expect<i8>(load<i8>(out + 4)).toBe(7);
  });
});

describe('requantCopy / gateMul / lut', () => {
  it('rescales into a strided channel slice', () => {
    const inp = heap.alloc(32), out = heap.alloc(64);
    memory.fill(out, 0x55, 64);
    for (let i = 0; i < 20; i++) store<i8>(inp + i, i8(i - 10));
    requantCopy(inp, 10, 2, 0, 1 << 30, 0, 3, out, 3); // x0.5 + 3
    expect<i8>(load<i8>(out)).toBe(-2); // -10 * 0.5 + 3
    expect<i8>(load<i8>(out + 1)).toBe(-1); // -9 * 0.5 = -4.5 -> -4, + 3
    expect<u8>(load<u8>(out + 2)).toBe(0x55); // the other input's slot untouched
  });
  it('multiplies by the upsampled gate', () => {
    const a = heap.alloc(16), skip = heap.alloc(16), out = heap.alloc(16);
    store<i8>(a, 0); // gate 0 + 128 = 128 -> x0.5 with multiplier 1/256
    for (let i = 0; i < 4; i++) store<i8>(skip + i, i8(10 * (i + 1)));
    gateMul(a, skip, 2, 2, 1, 0, 1 << 30, -7, 0, -128, 127, out); // real multiplier 2^-8
    expect<i8>(load<i8>(out)).toBe(5);
    expect<i8>(load<i8>(out + 3)).toBe(20);
  });
  it('looks values up at q + 128', () => {
    const inp = heap.alloc(16), table = heap.alloc(256), out = heap.alloc(16);
    for (let i = 0; i < 256; i++) store<i8>(table + i, i8(255 - i));
    store<i8>(inp, -128); store<i8>(inp + 1, 127); store<i8>(inp + 2, 0);
    lut(inp, 3, table, out);
    expect<i8>(load<i8>(out)).toBe(-1);
    expect<i8>(load<i8>(out + 1)).toBe(0);
    expect<i8>(load<i8>(out + 2)).toBe(127);
  });
});

describe('add / affine', () => {
  it('adds two tensors with TFLite int8 ADD parameters', () => {
    // scales equal: inputs x0.5 (M 2^30, shift 0) after << 20, output x2^-19 (M 2^30, shift -18): out = a + b
    const a = heap.alloc(32), b = heap.alloc(32), out = heap.alloc(32);
    for (let i = 0; i < 20; i++) { store<i8>(a + i, i8(i * 3 - 30)); store<i8>(b + i, i8(100 - i * 7)); }
    add(a, b, 20, 0, 0, 20, 1 << 30, 0, 1 << 30, 0, 1 << 30, -18, 0, -128, 127, out);
    expect<i8>(load<i8>(out)).toBe(70); // -30 + 100
    expect<i8>(load<i8>(out + 19)).toBe(i8(27 - 33)); // vector body and scalar tail agree
    expect<i8>(load<i8>(out + 17)).toBe(i8(21 - 19));
  });
  it('applies a per-channel scale, bias and shift', () => {
    const inp = heap.alloc(16), w = heap.alloc(16), bias = heap.alloc(32), m = heap.alloc(32), s = heap.alloc(32), out = heap.alloc(16);
    for (let c = 0; c < 5; c++) {
      store<i8>(inp + c, i8(c + 1)); store<i8>(w + c, i8(c - 2));
      store<i32>(bias + (c << 2), 10 * c); store<i32>(m + (c << 2), 1 << 30); store<i32>(s + (c << 2), c == 2 ? 3 : 1);
    }
    affine(inp, 1, 5, 0, w, bias, m, s, 0, -128, 127, out);
    expect<i8>(load<i8>(out)).toBe(-2); // -2 * 1 + 0
    expect<i8>(load<i8>(out + 1)).toBe(8); // -1 * 2 + 10
    expect<i8>(load<i8>(out + 2)).toBe(80); // (0 * 3 + 20) * 4
    expect<i8>(load<i8>(out + 4)).toBe(50); // 2 * 5 + 40 (scalar tail)
  });
});

describe('copyBox', () => {
  it('copies a strided box, 1-byte runs, into a strided destination', () => {
    const src = heap.alloc(32), dst = heap.alloc(32);
    for (let i = 0; i < 32; i++) { store<u8>(src + i, u8(i)); store<u8>(dst + i, 0xee); }
    copyBox(src, dst, 2, 10, 8, 3, 2, 1, 1); // rows 0 and 10, every second byte, to 3 bytes per 8
    expect<u8>(load<u8>(dst)).toBe(0);
    expect<u8>(load<u8>(dst + 2)).toBe(4);
    expect<u8>(load<u8>(dst + 3)).toBe(0xee); // between the rows: untouched
    expect<u8>(load<u8>(dst + 8)).toBe(10);
    expect<u8>(load<u8>(dst + 10)).toBe(14);
    expect<u8>(load<u8>(dst + 11)).toBe(0xee);
  });
  it('moves a run whose destination overlaps its source as a memmove, runs in order', () => {
    const m = heap.alloc(32);
    for (let i = 0; i < 32; i++) store<u8>(m + i, u8(i));
    copyBox(m, m + 2, 2, 4, 4, 1, 0, 0, 4); // run 0: [0..4) -> [2..6); run 1 reads [4..8), partly run 0's bytes
    expect<u8>(load<u8>(m + 2)).toBe(0);
    expect<u8>(load<u8>(m + 5)).toBe(3);
    expect<u8>(load<u8>(m + 6)).toBe(2); // byte 4 after run 0
    expect<u8>(load<u8>(m + 9)).toBe(7);
  });
});
