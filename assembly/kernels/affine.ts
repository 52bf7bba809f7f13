// Per-channel affine (the attention gate's folded BatchNorm), a depthwise 1x1 conv:
// out[p][ch] = clamp(MBQM(w[ch] * (in[p][ch] - inZp) + bias[ch], M[ch], shift[ch]) + outZp).
// Reference: host/reference/affine.ts. Each lane has its own (M, shift); WebAssembly has
// no per-lane 64-bit shift, so this stays scalar (about 4 M values per seed frame).
import { requantize } from './quant';
import { fail, checkZp, checkAct, checkRequant, ERR_SHAPE, ERR_CHANNELS } from './errors';

export function affine(
  inPtr: usize, pixels: i32, c: i32, inZp: i32,
  wPtr: usize, biasPtr: usize, multPtr: usize, shiftPtr: usize,
  outZp: i32, actMin: i32, actMax: i32, outPtr: usize,
): void {
  if (pixels < 0) fail(ERR_SHAPE);
  if (c < 1) fail(ERR_CHANNELS);
  checkZp(inZp);
  checkAct(outZp, actMin, actMax);
  for (let ch = 0; ch < c; ch++) checkRequant(load<i32>(multPtr + usize(ch << 2)), load<i32>(shiftPtr + usize(ch << 2)));
  const cs = usize(c);
  for (let p = 0; p < pixels; p++) {
    const s = inPtr + usize(p) * cs;
    const d = outPtr + usize(p) * cs;
    for (let ch: usize = 0; ch < cs; ch++) {
      const acc = i32(load<i8>(wPtr + ch)) * (i32(load<i8>(s + ch)) - inZp) + load<i32>(biasPtr + (ch << 2));
      store<i8>(d + ch, requantize(acc, load<i32>(multPtr + (ch << 2)), load<i32>(shiftPtr + (ch << 2)), outZp, actMin, actMax));
    }
  }
}
