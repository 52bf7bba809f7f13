// The WebAssembly kernel module: exactly the KernelSet functions of
// host/kernels/kernel-set.ts (weight packing is done by the host, host/kernels/weight-packing.ts),
// plus lastError/clearError (argument errors, see kernels/errors.ts) and variant. Kernels own no
// memory: every buffer, conv3x3's scratch included, is a pointer the caller passes.
// One source, two builds: asconfig.json's "simd" and "relaxed" targets differ only
// in --enable relaxed-simd, which turns on ASC_FEATURE_RELAXED_SIMD below.
export { conv3x3 } from './kernels/conv3x3';
export { conv1x1 } from './kernels/conv1x1';
export { maxpool2x2 } from './kernels/maxpool2x2';
export { upsample2x } from './kernels/upsample2x';
export { requantCopy } from './kernels/concat';
export { add } from './kernels/add';
export { lut } from './kernels/sigmoid';
export { gateMul } from './kernels/gate';
export { affine } from './kernels/affine';
export { copyBox } from './kernels/dma';
export { lastError, clearError } from './kernels/errors';
import { WEIGHT_LAYOUT } from '../host/kernels/kernel-constants';

/** The packed weight layouts this module reads (host/kernels/kernel-constants.ts WEIGHT_LAYOUT) */
export function weightLayout(): i32 {
  return WEIGHT_LAYOUT;
}

/** 1: plain SIMD build, 2: SIMD + relaxed SIMD build */
export function variant(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 2 : 1;
}
