// maxpool (2x2, stride 2) -> kernel maxpool2x2. Output rows [a, b) read input rows [2a, 2b).
import type { MaxPoolOp } from '../../../models/graph.js';
import { elementwiseWork, resamplingBinding } from './op-binding.js';

export const maxpool = resamplingBinding<MaxPoolOp>(
  'maxpool',
  (a, b) => [2 * a, 2 * b],
  1,
  (kn, v, out) => kn.maxpool2x2(v.ptr, v.h, v.w, v.c, out),
  (op, g, c) => elementwiseWork(op, g, c, 4), // 4 compares per output value
);
