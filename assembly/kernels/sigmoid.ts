// Table lookup, the quantized sigmoid: out[i] = lut[in[i] + 128]. Reference: host/kernels/reference/sigmoid.ts.
// The table comes from models/quant-math.ts (sigmoidLut). Tensors here are one
// channel (attention logits, the output logit), so a scalar loop is enough.
import { fail, ERR_SHAPE } from './errors';

export function lut(inPtr: usize, n: i32, lutPtr: usize, outPtr: usize): void {
  if (n < 0) fail(ERR_SHAPE);
  const t = lutPtr + 128;
  for (let i = 0; i < n; i++) {
    store<i8>(outPtr + usize(i), load<i8>(t + usize(load<i8>(inPtr + usize(i)))));
  }
}
