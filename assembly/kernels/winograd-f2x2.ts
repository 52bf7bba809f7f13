// Winograd F(2x2, 3x3) in exact integer arithmetic: the transforms of conv3x3's Winograd path
// (conv3x3-winograd.ts) for cin a multiple of 8 above WINOGRAD4_MAX_CIN, up to WINOGRAD_MAX_CIN.
//
// Method (Lavin & Gray 2015; ncnn's int8 winograd23 uses the same integer form). A 2x2
// output tile is Y = A^T [U . V] A with V = B^T d B (d: the tile's 4x4 input window,
// x - inZp) and U = G' g G'^T, G' = 2G = [[2,0,0],[1,1,1],[1,-1,1],[0,0,2]] (integer, so
// Y = 4 * the direct sum). B^T and A^T hold only 0 and +-1. Per tile and input channel
// the 36 products of the direct 3x3 conv become 16: 2.25x fewer dot products.
// Exactness: |V| <= 4*255, |U| <= 9*127, so each i32x4.dot_i16x8_s is exact; the sums
// over channels and the output transform wrap modulo 2^32, which is exact whenever the
// final 4 * sum fits in i32: |4 * 9 * cin * 255 * 127| < 2^31 for cin <= 1828
// (the limit WINOGRAD_MAX_CIN is 1024). The host packs U per output channel
// (host/kernels/weight-packing.ts): [group of 4 channels][p = 4*i + j][channel pair][channel][2], i16.
import { storeTiles4 } from './winograd-block';
import { outputPair } from './quant';

/** Row i of B^T d at column col of one tile (d[r][col] at src + r*rs + col*cs): d0 - d2, d1 + d2, d2 - d1, d1 - d3 */
// @ts-ignore: decorator
@inline function btRow(src: usize, rs: usize, cs: usize, i: i32, col: usize): v128 {
  const c = src + col * cs;
  if (i == 0) return i16x8.sub(v128.load(c), v128.load(c + 2 * rs));
  if (i == 1) return i16x8.add(v128.load(c + rs), v128.load(c + 2 * rs));
  if (i == 2) return i16x8.sub(v128.load(c + 2 * rs), v128.load(c + rs));
  return i16x8.sub(v128.load(c + rs), v128.load(c + 3 * rs));
}

/** V[i][j] = (B^T d B)[i][j] of one tile: the same combination over the columns of row i of B^T d */
// @ts-ignore: decorator
@inline function vAt(src: usize, rs: usize, cs: usize, i: i32, j: i32): v128 {
  if (j == 0) return i16x8.sub(btRow(src, rs, cs, i, 0), btRow(src, rs, cs, i, 2));
  if (j == 1) return i16x8.add(btRow(src, rs, cs, i, 1), btRow(src, rs, cs, i, 2));
  if (j == 2) return i16x8.sub(btRow(src, rs, cs, i, 2), btRow(src, rs, cs, i, 1));
  return i16x8.sub(btRow(src, rs, cs, i, 1), btRow(src, rs, cs, i, 3));
}

/** V[i][j] of 4 neighbouring tiles (src, src + ts, ..) for 8 channels into the block (storeTiles4) */
// @ts-ignore: decorator
@inline function vStore4(src: usize, rs: usize, cs: usize, ts: usize, i: i32, j: i32, dst: usize): void {
  storeTiles4(vAt(src, rs, cs, i, j), vAt(src + ts, rs, cs, i, j), vAt(src + 2 * ts, rs, cs, i, j), vAt(src + 3 * ts, rs, cs, i, j), dst);
}

/**
 * V = B^T d B of 4 neighbouring tiles (tile k's d[r][j] at src + k*2*cs + r*rs + j*cs) for 8
 * channels into one block: V[p] of channel pair k, tile t at dst + p*pStride + k*16 + t*4.
 * Per (p, 4 tiles): 16 loads, 12 adds, an 8-shuffle transpose and 4 stores (scattering each
 * tile's 4 pairs with 32-bit lane stores measured store-bound).
 */
export function inputBlockF2(src: usize, rs: usize, cs: usize, dst: usize, pStride: usize): void {
  const ts = 2 * cs;
  vStore4(src, rs, cs, ts, 0, 0, dst);
  vStore4(src, rs, cs, ts, 0, 1, dst + pStride);
  vStore4(src, rs, cs, ts, 0, 2, dst + 2 * pStride);
  vStore4(src, rs, cs, ts, 0, 3, dst + 3 * pStride);
  vStore4(src, rs, cs, ts, 1, 0, dst + 4 * pStride);
  vStore4(src, rs, cs, ts, 1, 1, dst + 5 * pStride);
  vStore4(src, rs, cs, ts, 1, 2, dst + 6 * pStride);
  vStore4(src, rs, cs, ts, 1, 3, dst + 7 * pStride);
  vStore4(src, rs, cs, ts, 2, 0, dst + 8 * pStride);
  vStore4(src, rs, cs, ts, 2, 1, dst + 9 * pStride);
  vStore4(src, rs, cs, ts, 2, 2, dst + 10 * pStride);
  vStore4(src, rs, cs, ts, 2, 3, dst + 11 * pStride);
  vStore4(src, rs, cs, ts, 3, 0, dst + 12 * pStride);
  vStore4(src, rs, cs, ts, 3, 1, dst + 13 * pStride);
  vStore4(src, rs, cs, ts, 3, 2, dst + 14 * pStride);
  vStore4(src, rs, cs, ts, 3, 3, dst + 15 * pStride);
}

/** Row 0 of A^T m at column j (m[p], p = 4*i + j, i32x4 over 4 output channels, at m + p*16): m0j + m1j + m2j */
// @ts-ignore: decorator
@inline function rowA0(m: usize, j: usize): v128 {
  return i32x4.add(i32x4.add(v128.load(m + j * 16), v128.load(m + (4 + j) * 16)), v128.load(m + (8 + j) * 16));
}
/** Row 1 of A^T m at column j: m1j - m2j - m3j */
// @ts-ignore: decorator
@inline function rowA1(m: usize, j: usize): v128 {
  return i32x4.sub(i32x4.sub(v128.load(m + (4 + j) * 16), v128.load(m + (8 + j) * 16)), v128.load(m + (12 + j) * 16));
}

/**
 * One tile of one group of 4 output channels: Y = A^T m A / 4 (exact) from m[p] at m + p*16,
 * rows y..y+1 (those below outH: `rows`) and columns x..x+1 (`cols` of them) stored through
 * outputPair at d (pixel (y, x)), rows rowBytes apart. tmp: unused (outputTileF4's signature).
 */
// @ts-ignore: decorator
@inline export function outputTileF2(m: usize, tmp: usize, rq: usize, d: usize, ps: usize, rowBytes: usize, nOut: i32, rows: i32, cols: i32, zpv: v128, mnv: v128, mxv: v128): void {
  const right = cols > 1;
  // rows of A^T m (j = 0..3), then the columns: y[a][0] = r0+r1+r2, y[a][1] = r1-r2-r3
  const u0 = rowA0(m, 0), u1 = rowA0(m, 1), u2 = rowA0(m, 2), u3 = rowA0(m, 3);
  outputPair(i32x4.shr_s(i32x4.add(i32x4.add(u0, u1), u2), 2), i32x4.shr_s(i32x4.sub(i32x4.sub(u1, u2), u3), 2), rq, d, ps, nOut, right, zpv, mnv, mxv);
  if (rows > 1) {
    const v0 = rowA1(m, 0), v1 = rowA1(m, 1), v2 = rowA1(m, 2), v3 = rowA1(m, 3);
    outputPair(i32x4.shr_s(i32x4.add(i32x4.add(v0, v1), v2), 2), i32x4.shr_s(i32x4.sub(i32x4.sub(v1, v2), v3), 2), rq, d + rowBytes, ps, nOut, right, zpv, mnv, mxv);
  }
}
