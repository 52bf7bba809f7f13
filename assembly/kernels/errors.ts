// Kernel argument errors. A kernel that gets an argument outside its contract
// records a code and traps; the host (host/kernels/wasm-kernels.ts) reads the code with
// lastError() and throws an Error naming the kernel and the argument. No
// imports are needed, so the release module stays standalone. The codes are
// shared with the host: host/kernels/kernel-constants.ts (compiled in here).
import { ERR_NONE, ERR_ZERO_POINT, ERR_ACT_RANGE, ERR_SHIFT, ERR_MULTIPLIER } from '../../host/kernels/kernel-constants';
export { ERR_STRIDE, ERR_PADDING, ERR_SHAPE, ERR_SCRATCH, ERR_SHIFT, ERR_CHANNELS } from '../../host/kernels/kernel-constants';

let lastErr: i32 = ERR_NONE;

export function lastError(): i32 { return lastErr; }

export function fail(code: i32): void {
  lastErr = code;
  unreachable();
}

// @ts-ignore: decorator
@inline export function checkZp(zp: i32): void { if (zp < -128 || zp > 127) fail(ERR_ZERO_POINT); }

// @ts-ignore: decorator
@inline export function checkAct(outZp: i32, actMin: i32, actMax: i32): void {
  checkZp(outZp);
  if (actMin < -128 || actMax > 127 || actMin > actMax) fail(ERR_ACT_RANGE);
}

// @ts-ignore: decorator
@inline export function checkRequant(M: i32, shift: i32): void {
  if (M < 0) fail(ERR_MULTIPLIER);
  if (shift < -31 || shift > 30) fail(ERR_SHIFT);
}

/** Reset the recorded code (the host calls this after reading it). */
export function clearError(): void { lastErr = ERR_NONE; }
