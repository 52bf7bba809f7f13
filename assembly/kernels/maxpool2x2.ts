// 2x2 max-pool, stride 2 (an odd last row/column is dropped). Reference: host/kernels/reference/maxpool2x2.ts.
// Vector body over 16 channels at a time, scalar tail.
import { fail, ERR_SHAPE } from './errors';

export function maxpool2x2(inPtr: usize, inH: i32, inW: i32, c: i32, outPtr: usize): void {
  if (inH < 0 || inW < 0 || c < 1) fail(ERR_SHAPE);
  const outH = inH >> 1, outW = inW >> 1;
  const rowBytes = usize(inW * c);
  const cs = usize(c);
  for (let y = 0; y < outH; y++) {
    let src = inPtr + usize(2 * y) * rowBytes;
    let dst = outPtr + usize(y * outW) * cs;
    for (let x = 0; x < outW; x++) {
      let ch: usize = 0;
      for (; ch + 16 <= cs; ch += 16) {
        const a = i8x16.max_s(v128.load(src + ch), v128.load(src + cs + ch));
        const b = i8x16.max_s(v128.load(src + rowBytes + ch), v128.load(src + rowBytes + cs + ch));
        v128.store(dst + ch, i8x16.max_s(a, b));
      }
      for (; ch < cs; ch++) {
        const a = max(load<i8>(src + ch), load<i8>(src + cs + ch));
        const b = max(load<i8>(src + rowBytes + ch), load<i8>(src + rowBytes + cs + ch));
        store<i8>(dst + ch, max(a, b));
      }
      src += 2 * cs;
      dst += cs;
    }
  }
}
