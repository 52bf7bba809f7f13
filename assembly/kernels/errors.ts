// Kernel argument errors. A kernel that gets an argument outside its contract
// records a code and traps; the host (host/kernels/wasm-kernels.ts) reads the code with
// lastError() and throws an Error naming the kernel and the argument. No
// imports are needed, so the release module stays standalone.
export const ERR_NONE = 0;
export const ERR_ZERO_POINT = 1;
export const ERR_ACT_RANGE = 2;
export const ERR_STRIDE = 3;
export const ERR_PADDING = 4;
export const ERR_SHAPE = 5;
export const ERR_SCRATCH = 6;
export const ERR_SHIFT = 7;
export const ERR_MULTIPLIER = 8;
export const ERR_CHANNELS = 9;

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
