// The numbers the WebAssembly kernels (assembly/kernels/*) and the host share,
// in one file both compilers read: AssemblyScript imports this file as source,
// so the codes a kernel records and the weight layout it reads cannot drift
// from what the host decodes (kernel-errors.ts) and packs (weight-packing.ts).
// Only `export const NAME = <integer>;` lines: the subset TypeScript and
// AssemblyScript both accept, and one that adds no data segment to the module.

/**
 * i16 lanes of one v128. A packed conv weight run (per output channel: one
 * kernel row's 3*cin taps for 3x3, the cin taps for 1x1) is zero-padded to a
 * multiple of this, so the kernels' dot products run over whole vectors.
 */
export const WEIGHT_RUN_LANES = 8;

/**
 * Output channels whose packed 3x3 weights are interleaved slice by slice: conv3x3's
 * register block (2 pixels x 4 channels) loads a group's 4 weight vectors at fixed offsets.
 */
export const CONV3X3_GROUP = 4;

/**
 * Largest cin for which a stride-1 3x3 conv (cin a multiple of 8) runs as Winograd F(4x4, 3x3)
 * (assembly/kernels/conv3x3-winograd.ts; the host packs its weights transformed): one block of 4
 * tiles' transformed input (288 * cin bytes) and the widened rows under it (216 * cin) fit the
 * engines' 1 MiB of scratch with room to spare, and its chunks' sums add up exactly in i32 while
 * 9 * cin * 255 * 127 < 2^31 (cin <= 7280).
 */
export const WINOGRAD_MAX_CIN = 1024;

/**
 * Most input channels whose sum Winograd F(4x4, 3x3) (assembly/kernels/winograd-f4x4.ts) recovers
 * at once whatever the weights: its integer form gives the sum modulo 2^26, exact while
 * 9 * cin * 255 * 127 < 2^25 (cin <= 115). Over more channels the kernel sums them in chunks of
 * this many, or of as many as the caller shows the weights allow (conv3x3's chunkCin).
 */
export const WINOGRAD4_CHUNK_CIN = 112;

/**
 * Version of the packed weight layouts the kernels read (host/kernels/weight-packing.ts), which a
 * kernel module reports (weightLayout()): a module built from sources with another layout would
 * read other bytes than the host packs and answer wrong without an error, so the host refuses it
 * (BAD_VERSION). 2: F(4x4, 3x3) weights for stride-1 3x3 convs up to 112 channels, F(2x2, 3x3)'s
 * above; 3: F(4x4, 3x3) up to WINOGRAD_MAX_CIN (and conv3x3 takes chunkCin).
 */
export const WEIGHT_LAYOUT = 3;

// Kernel argument errors: a kernel records a code with fail() and traps; the
// host reads it with lastError() and names it (host/kernels/kernel-errors.ts).
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
