// Nearest-neighbour upsampling by 2. Reference: host/kernels/reference/upsample2x.ts.
// Each output row pair: the even row is built pixel by pixel, the odd row is a copy of it.
import { fail, ERR_SHAPE } from './errors';

export function upsample2x(inPtr: usize, inH: i32, inW: i32, c: i32, outPtr: usize): void {
  if (inH < 0 || inW < 0 || c < 1) fail(ERR_SHAPE);
  const cs = usize(c);
  const outRow = usize(2 * inW) * cs;
  for (let y = 0; y < inH; y++) {
    const src = inPtr + usize(y * inW) * cs;
    const dst = outPtr + usize(2 * y) * outRow;
    if (c == 1) {
      for (let x = 0; x < inW; x++) {
        const v = load<u8>(src + usize(x));
        store<u16>(dst + usize(2 * x), u16(v) * 0x101);
      }
    } else {
      for (let x = 0; x < inW; x++) {
        const s = src + usize(x) * cs;
        const d = dst + usize(2 * x) * cs;
        let ch: usize = 0;
        for (; ch + 16 <= cs; ch += 16) {
          const v = v128.load(s + ch);
          v128.store(d + ch, v);
          v128.store(d + cs + ch, v);
        }
        for (; ch < cs; ch++) {
          const v = load<u8>(s + ch);
          store<u8>(d + ch, v);
          store<u8>(d + cs + ch, v);
        }
      }
    }
    memory.copy(dst + outRow, dst, outRow);
  }
}
