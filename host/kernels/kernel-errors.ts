// What each kernel error code means. The codes are those of kernel-constants.ts,
// which the WebAssembly kernels compile in; this table is keyed by their names,
// so TypeScript refuses a code without its text.
import * as codes from './kernel-constants.js';

type ErrorName = Exclude<Extract<keyof typeof codes, `ERR_${string}`>, 'ERR_NONE'>;

const TEXT: Record<ErrorName, string> = {
  ERR_ZERO_POINT: 'zero point outside [-128, 127]',
  ERR_ACT_RANGE: 'activation range not within [-128, 127] or actMin > actMax',
  ERR_STRIDE: 'stride must be 1 or 2',
  ERR_PADDING: 'padding must be 0, 1 or 2 per side',
  ERR_SHAPE: 'invalid tensor shape',
  ERR_SCRATCH: 'scratch region too small for one row of this convolution',
  ERR_SHIFT: 'shift outside its range (requant shift [-31, 30]; add: input shifts <= 0, leftShift [0, 23])',
  ERR_MULTIPLIER: 'multiplier must be in [0, 2^31)',
  ERR_CHANNELS: 'invalid channel count (conv3x3: or chunkCin not a multiple of 8) or output pixel stride smaller than the channel count',
};

const byCode = new Map<number, string>(Object.entries(TEXT).map(([name, text]) => [codes[name as ErrorName], text]));

/** The text of a code a kernel recorded, or undefined for 0 and unknown codes. */
export function kernelErrorText(code: number): string | undefined {
  return byCode.get(code);
}

/** Every code with its name (for tests and docs). */
export function kernelErrorCodes(): { name: string; code: number; text: string }[] {
  return Object.entries(TEXT).map(([name, text]) => ({ name, code: codes[name as ErrorName], text }));
}
