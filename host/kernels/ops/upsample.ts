// upsample (nearest, x2) -> kernel upsample2x. Output rows [a, b) read input rows
// [a/2, (b+1)/2); tiles start on even rows and columns.
import type { UpsampleOp } from '../../../models/graph.js';
import { elementwiseWork, resamplingBinding } from './op-binding.js';

export const upsample = resamplingBinding<UpsampleOp>(
  'upsample',
  (a, b) => [a >> 1, (b + 1) >> 1],
  2,
  (kn, v, out) => kn.upsample2x(v.ptr, v.h, v.w, v.c, out),
  elementwiseWork,
);
