// Element-wise kernels on small hand-checked cases.
import { maxpool2x2 } from '../kernels/maxpool2x2';
import { upsample2x } from '../kernels/upsample2x';
import { requantCopy } from '../kernels/concat';
import { gateMul } from '../kernels/gate';
import { lut } from '../kernels/sigmoid';

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
