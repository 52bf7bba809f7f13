// Winograd F(4x4, 3x3) in exact integer arithmetic: the transforms of conv3x3's Winograd path
// (conv3x3-winograd.ts) for cin a multiple of 8 up to WINOGRAD_MAX_CIN.
//
// Method (Lavin & Gray 2015, points 0, +-1, +-2). A 4x4 output tile is Y = A^T [U . V] A with
// V = B^T d B (d: the tile's 6x6 input window, x - inZp) and U = G g G^T. G's rows have the
// denominators D = (4, 6, 6, 24, 24, 1); the host packs U'' = G'' g G''^T with G'' = D G integer
// (host/kernels/weight-packing.ts), so U = D^-1 U'' D^-1 and
//   576 Y = A'^T [U'' . V] A',  A' = diag(e) A,  e = 24 D^-1 = (6, 4, 4, 1, 1, 24),
// every step integer. Per tile and input channel the 144 products of the direct 3x3 conv become
// 36: 4x fewer.
// Exactness: |V| <= 100*255 and |U''| <= 49*127 fit i16, so each i32x4.dot_i16x8_s is exact;
// the sums over channels and the output transform wrap modulo 2^32 (ring operations only), which
// gives 576 Y mod 2^32; times 9^-1 mod 2^32 that is 64 Y mod 2^32, which is 64 Y itself while
// |Y| < 2^25, and an arithmetic shift by 6 leaves Y. |Y| <= 9 * cin * 255 * 127 < 2^25 for
// cin <= 115 whatever the weights: WINOGRAD4_CHUNK_CIN is 112, and conv3x3-winograd.ts sums more
// channels in chunks, each recovered exactly (tests/host/kernels/conv.test.ts runs the extremes).
//
// The input transform goes through a working tile (columns, then rows in place) before each
// point's 4 tiles go into the block; the output transform likewise (columns, then rows).
import { TB, storeTiles4 } from './winograd-block';
import { outputPair } from './quant';

/** points of the transform (6x6) */
const P = 36;
/** bytes of the transforms' working tiles (TB tiles x P x one v128: the input transform's; the output transform uses 24 of them) */
export const F4_WORK_BYTES = TB * P * 16;
/** 9^-1 modulo 2^32 */
const INV9: i32 = 954437177;

/**
 * r = B^T x along one line of 6 (x0..x5, 8 lanes of i16, wrapping), stored at dst + i*stride:
 * r0 = 4x0 - 5x2 + x4, r1 = -4x1 - 4x2 + x3 + x4, r2 = 4x1 - 4x2 - x3 + x4,
 * r3 = -2x1 - x2 + 2x3 + x4, r4 = 2x1 - x2 - 2x3 + x4, r5 = 4x1 - 5x3 + x5.
 */
// @ts-ignore: decorator
@inline function bt6(x0: v128, x1: v128, x2: v128, x3: v128, x4: v128, x5: v128, dst: usize, stride: usize): void {
  const a = i16x8.sub(x4, i16x8.shl(x2, 2)), b = i16x8.sub(x3, i16x8.shl(x1, 2));
  const c = i16x8.sub(x4, x2), e = i16x8.shl(i16x8.sub(x3, x1), 1);
  v128.store(dst, i16x8.add(i16x8.shl(i16x8.sub(x0, x2), 2), c));
  v128.store(dst + stride, i16x8.add(a, b));
  v128.store(dst + 2 * stride, i16x8.sub(a, b));
  v128.store(dst + 3 * stride, i16x8.add(c, e));
  v128.store(dst + 4 * stride, i16x8.sub(c, e));
  v128.store(dst + 5 * stride, i16x8.add(i16x8.shl(i16x8.sub(x1, x3), 2), i16x8.sub(x5, x3)));
}

/**
 * V = B^T d B of 4 tiles for 8 channels into one block: V[p] of channel pair q, tile k at
 * dst + p*pStride + q*16 + k*4. Tiles 0..split-1 are neighbours from src on (tile k's d[r][c] at
 * src + k*4*cs + r*rs + c*cs), the rest neighbours from `next` on (a block that runs on into the
 * next tile row). Each tile's 36 V go through the working tile tmp ([k][i][j], columns first, then
 * rows in place), then each p's 4 tiles go into the block (storeTiles4).
 */
export function inputBlockF4(src: usize, next: usize, split: i32, rs: usize, cs: usize, dst: usize, pStride: usize, tmp: usize): void {
  for (let k = 0; k < TB; k++) {
    const t = tmp + usize(k * P * 16);
    const s = k < split ? src + usize(k * 4) * cs : next + usize((k - split) * 4) * cs;
    for (let c = 0; c < 6; c++) {
      const col = s + usize(c) * cs;
      bt6(v128.load(col), v128.load(col + rs), v128.load(col + 2 * rs), v128.load(col + 3 * rs), v128.load(col + 4 * rs), v128.load(col + 5 * rs), t + usize(c << 4), 96);
    }
    for (let i = 0; i < 6; i++) {
      const row = t + usize(i * 96);
      bt6(v128.load(row), v128.load(row, 16), v128.load(row, 32), v128.load(row, 48), v128.load(row, 64), v128.load(row, 80), row, 16);
    }
  }
  for (let p = 0; p < P; p++) {
    const q = tmp + usize(p << 4);
    storeTiles4(v128.load(q), v128.load(q, P * 16), v128.load(q, 2 * P * 16), v128.load(q, 3 * P * 16), dst + usize(p) * pStride);
  }
}

/**
 * A'^T m along one line of 6 (i32x4, wrapping), stored at dst + a*stride:
 * y0 = 6m0 + 4(m1 + m2) + (m3 + m4), y1 = 4(m1 - m2) + 2(m3 - m4),
 * y2 = 4(m1 + m2) + 4(m3 + m4), y3 = 4(m1 - m2) + 8(m3 - m4) + 24m5.
 */
// @ts-ignore: decorator
@inline function at6(m0: v128, m1: v128, m2: v128, m3: v128, m4: v128, m5: v128, dst: usize, stride: usize): void {
  const s12 = i32x4.shl(i32x4.add(m1, m2), 2), d12 = i32x4.shl(i32x4.sub(m1, m2), 2);
  const s34 = i32x4.add(m3, m4), d34 = i32x4.shl(i32x4.sub(m3, m4), 1);
  v128.store(dst, i32x4.add(i32x4.add(i32x4.add(i32x4.shl(m0, 2), i32x4.shl(m0, 1)), s12), s34));
  v128.store(dst + stride, i32x4.add(d12, d34));
  v128.store(dst + 2 * stride, i32x4.add(s12, i32x4.shl(s34, 2)));
  v128.store(dst + 3 * stride, i32x4.add(i32x4.add(d12, i32x4.shl(d34, 2)), i32x4.add(i32x4.shl(m5, 4), i32x4.shl(m5, 3))));
}

/** Y from 576 Y modulo 2^32 (exact for |Y| < 2^25, see the top of this file) */
// @ts-ignore: decorator
@inline function exact(x: v128): v128 {
  return i32x4.shr_s(i32x4.mul(x, i32x4.splat(INV9)), 6);
}

/**
 * One tile of one group of 4 output channels: Y = A'^T m A' / 576 from m[p] at m + p*16 (p = 6i + j),
 * rows y..y+3 (those below outH: `rows`) and columns x..x+3 (`cols` of them) stored through outputPair
 * at d (pixel (y, x)), rows rowBytes apart. tmp: 24 v128 of working space.
 * m may hold the sums over one chunk of the input channels only (WINOGRAD4_CHUNK_CIN, for more channels
 * than one exact recovery allows): the chunks' Y add up in `acc` (16 v128: [row][column]), the first
 * chunk's stored there, the last one's added and stored through outputPair; a call of one chunk is both.
 */
// @ts-ignore: decorator
@inline export function outputTileF4(m: usize, tmp: usize, rq: usize, d: usize, ps: usize, rowBytes: usize, nOut: i32, rows: i32, cols: i32, zpv: v128, mnv: v128, mxv: v128, acc: usize, first: bool, last: bool): void {
  // columns: w[a][j] = (A'^T m)[a][j] at tmp + (a*6 + j)*16
  for (let j = 0; j < 6; j++) {
    const c = m + usize(j << 4);
    at6(v128.load(c), v128.load(c, 96), v128.load(c, 192), v128.load(c, 288), v128.load(c, 384), v128.load(c, 480), tmp + usize(j << 4), 96);
  }
  // rows: y[a][b] = (w A')[a][b], in place over w[a][0..3]
  for (let a = 0; a < rows; a++) {
    const r = tmp + usize(a * 96);
    at6(v128.load(r), v128.load(r, 16), v128.load(r, 32), v128.load(r, 48), v128.load(r, 64), v128.load(r, 80), r, 16);
    let y0 = exact(v128.load(r)), y1 = exact(v128.load(r, 16)), y2 = exact(v128.load(r, 32)), y3 = exact(v128.load(r, 48));
    const s = acc + usize(a << 6);
    if (!first) {
      y0 = i32x4.add(y0, v128.load(s)); y1 = i32x4.add(y1, v128.load(s, 16));
      y2 = i32x4.add(y2, v128.load(s, 32)); y3 = i32x4.add(y3, v128.load(s, 48));
    }
    if (!last) {
      v128.store(s, y0); v128.store(s, y1, 16); v128.store(s, y2, 32); v128.store(s, y3, 48);
      continue;
    }
    const dr = d + usize(a) * rowBytes;
    outputPair(y0, y1, rq, dr, ps, nOut, cols > 1, zpv, mnv, mxv);
    if (cols > 2) outputPair(y2, y3, rq, dr + 2 * ps, ps, nOut, cols > 3, zpv, mnv, mxv);
  }
}
