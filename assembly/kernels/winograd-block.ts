// The block the Winograd input transform of conv3x3 (winograd-f4x4.ts) writes V into and the
// inner loop (dotBlock) reads: TB tiles (neighbours in a tile row, or the end of one row and the
// start of the next), laid [p][channel pair][tile][2] (i16), so that each tile's channel pair is
// one 32-bit splat against a vector of 4 output channels' weights for that pair.
// Measured (A/B in one process, seed layers, Xeon @ 2.8 GHz): a block of 4 tiles x 8 output
// channels ran 1.2-1.3x faster than 8 tiles x 4 channels (TurboFan spilled an accumulator and a
// splat every iteration: 9 loads per 8 dots) and than 4-7 tiles x 4 channels; transposing 4
// tiles' V in registers ran 1.07-1.19x faster than scattering each tile's pairs with lane stores.

/** tiles per block: the inner loop's register block */
export const TB = 4;

/** A tile row's tiles rounded up to whole blocks (the input transforms fill a block's 4 tiles at once). */
// @ts-ignore: decorator
@inline export function padTiles(tw: i32): i32 { return (tw + TB - 1) & ~(TB - 1); }

/**
 * One point p of 4 tiles' V for 8 channels (v0..v3: tile 0..3, i16 lanes = channels), transposed
 * so that each channel pair's 4 tiles are one vector: pair k at dst + k*16 ([pair][tile][2]).
 */
// @ts-ignore: decorator
@inline export function storeTiles4(v0: v128, v1: v128, v2: v128, v3: v128, dst: usize): void {
  const a = v128.shuffle<i32>(v0, v1, 0, 4, 1, 5), b = v128.shuffle<i32>(v2, v3, 0, 4, 1, 5);
  const c = v128.shuffle<i32>(v0, v1, 2, 6, 3, 7), d = v128.shuffle<i32>(v2, v3, 2, 6, 3, 7);
  v128.store(dst, v128.shuffle<i32>(a, b, 0, 1, 4, 5));
  v128.store(dst, v128.shuffle<i32>(a, b, 2, 3, 6, 7), 16);
  v128.store(dst, v128.shuffle<i32>(c, d, 0, 1, 4, 5), 32);
  v128.store(dst, v128.shuffle<i32>(c, d, 2, 3, 6, 7), 48);
}

/**
 * The Winograd inner loop: for each of the P points p of one block of 4 tiles (V at vb + p*pStride,
 * [pair][tile][2]), the sums over `n` channel pairs against two groups of 4 output channels' weights
 * (wA, wB: [p][pair][channel][2], p slots pStride apart as V's) into m[group][tile][p] at mBuf (tile
 * stride P*16 bytes, group stride 4*P*16). Each of the 4 tiles' channel pair is splatted
 * (v128.load32_splat: vbroadcastss, a pure load on x64) against both groups' 4 channels' pair
 * (lanes = output channels): 8 accumulators, 6 loads per 8 dot products, no horizontal sums.
 * vb, wA and wB may point at a later pair than the first (a chunk of the channels: conv3x3-winograd.ts).
 */
// @ts-ignore: decorator
@inline export function dotBlock(vb: usize, pStride: usize, wA: usize, wB: usize, n: i32, mBuf: usize, P: i32): void {
  const pairStride = usize(TB * 4);
  const run = usize(n) * pairStride;
  const ts = usize(P << 4);
  for (let p = 0; p < P; p++) {
    let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
    let b0 = i32x4.splat(0), b1 = i32x4.splat(0), b2 = i32x4.splat(0), b3 = i32x4.splat(0);
    const off = usize(p) * pStride;
    let q = vb + off;
    let w = wA + off, w2 = wB + off;
    const qe = q + run;
    for (; q < qe; q += pairStride, w += 16, w2 += 16) {
      const x0 = v128.load32_splat(q), x1 = v128.load32_splat(q, 4), x2 = v128.load32_splat(q, 8), x3 = v128.load32_splat(q, 12);
      const wv = v128.load(w);
      a0 = i32x4.add(a0, i32x4.dot_i16x8_s(x0, wv));
      a1 = i32x4.add(a1, i32x4.dot_i16x8_s(x1, wv));
      a2 = i32x4.add(a2, i32x4.dot_i16x8_s(x2, wv));
      a3 = i32x4.add(a3, i32x4.dot_i16x8_s(x3, wv));
      const wv2 = v128.load(w2);
      b0 = i32x4.add(b0, i32x4.dot_i16x8_s(x0, wv2));
      b1 = i32x4.add(b1, i32x4.dot_i16x8_s(x1, wv2));
      b2 = i32x4.add(b2, i32x4.dot_i16x8_s(x2, wv2));
      b3 = i32x4.add(b3, i32x4.dot_i16x8_s(x3, wv2));
    }
    const mp = mBuf + usize(p << 4);
    v128.store(mp, a0);
    v128.store(mp + ts, a1);
    v128.store(mp + 2 * ts, a2);
    v128.store(mp + 3 * ts, a3);
    v128.store(mp + 4 * ts, b0);
    v128.store(mp + 5 * ts, b1);
    v128.store(mp + 6 * ts, b2);
    v128.store(mp + 7 * ts, b3);
  }
}
