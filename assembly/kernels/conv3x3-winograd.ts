// 3x3 convolution, stride 1, by Winograd F(2x2, 3x3) in exact integer arithmetic: the
// stride-1 path of conv3x3 (assembly/kernels/conv3x3.ts) for cin a multiple of 8, up to
// WINOGRAD_MAX_CIN. Same arguments, same bytes as the direct kernel and the reference.
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
//
// Loop order: band of tiles (as many as the scratch holds; tile rows x a column chunk) ->
// input transform of the band into V, blocks of 4 tiles laid [block][p][channel pair][tile][2]
// (4 neighbouring tiles at once, transposed in registers: 1.07-1.19x over scattering each
// tile's pairs with lane stores; a tile row is padded to whole blocks) -> 8 output channels
// (two packed groups of 4) -> block of 4 tiles -> p -> channel pairs. The inner loop splats
// each of the 4 tiles' channel pair (v128.load32_splat: vbroadcastss, a pure load on x64)
// against both groups' 4 channels' pair (lanes = output channels): 8 accumulators, 6 loads
// per 8 dot products, no horizontal sums. The 16 p's accumulators go to a 2 KiB buffer, then
// the output transform, requantization and 4-byte stores per pixel.
// Measured (A/B in one process, seed layers, Xeon @ 2.8 GHz): this 4 tiles x 8 channels
// block ran 1.2-1.3x faster than 8 tiles x 4 channels (TurboFan spilled an accumulator
// and a splat every iteration: 9 loads per 8 dots) and than 4-7 tiles x 4 channels.
import { roundConst, unbiasConst, accBound, mulByQuantizedMultiplier2x2, pair, finish8 } from './quant';
import { fail, ERR_SCRATCH } from './errors';
import { WINOGRAD_MAX_CIN } from '../../host/kernels/kernel-constants';
import { widenPixel } from './widen';

/** Whether conv3x3 runs (and the host packs) this conv as Winograd F(2x2, 3x3). */
// @ts-ignore: decorator
@inline export function winogradConv3x3(stride: i32, cin: i32): bool {
  return stride == 1 && (cin & 7) == 0 && cin > 0 && cin <= WINOGRAD_MAX_CIN;
}

/** tiles per block: the inner loop's register block */
const TB = 4;
/** bytes of the accumulator buffer (2 groups x TB tiles x 16 p x one v128) and the 2 groups' requantization constants */
const M_BYTES = 2 * TB * 16 * 16 + 512;

/** A tile row's tiles rounded up to whole blocks (the input transform fills a block's 4 tiles at once). */
// @ts-ignore: decorator
@inline function padTiles(tw: i32): i32 { return (tw + TB - 1) & ~(TB - 1); }

/** Scratch one tile row of a column chunk of `tw` tiles needs: the accumulators, its 4 widened input rows, its blocks of V. */
// @ts-ignore: decorator
@inline function chunkBytes(tw: i32, cin: i32): i32 {
  return M_BYTES + 4 * (2 * padTiles(tw) + 2) * cin * 2 + padTiles(tw) * 16 * cin * 2;
}

/** Widen input rows iy0..iy0+3, columns ix0..ix0+cols-1 to i16 (x - zp), 0 outside: dst[(r*cols + col)*cin + c]. */
function widenRows(dst: usize, inPtr: usize, iy0: i32, inH: i32, inW: i32, cin: i32, zp: i32, ix0: i32, cols: i32): void {
  const zpv = i16x8.splat(i16(zp));
  let d = dst;
  for (let r = 0; r < 4; r++) {
    for (let col = 0; col < cols; col++) {
      widenPixel(d, inPtr, iy0 + r, ix0 + col, inH, inW, cin, zpv);
      d += usize(cin << 1);
    }
  }
}

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

/**
 * V[i][j] of 4 neighbouring tiles (src, src + ts, ..) for 8 channels, transposed so that each
 * channel pair's 4 tiles are one vector: pair k at dst + k*16 (the block layout [pair][tile][2]).
 */
// @ts-ignore: decorator
@inline function vStore4(src: usize, rs: usize, cs: usize, ts: usize, i: i32, j: i32, dst: usize): void {
  const v0 = vAt(src, rs, cs, i, j), v1 = vAt(src + ts, rs, cs, i, j);
  const v2 = vAt(src + 2 * ts, rs, cs, i, j), v3 = vAt(src + 3 * ts, rs, cs, i, j);
  const a = v128.shuffle<i32>(v0, v1, 0, 4, 1, 5), b = v128.shuffle<i32>(v2, v3, 0, 4, 1, 5);
  const c = v128.shuffle<i32>(v0, v1, 2, 6, 3, 7), d = v128.shuffle<i32>(v2, v3, 2, 6, 3, 7);
  v128.store(dst, v128.shuffle<i32>(a, b, 0, 1, 4, 5));
  v128.store(dst, v128.shuffle<i32>(a, b, 2, 3, 6, 7), 16);
  v128.store(dst, v128.shuffle<i32>(c, d, 0, 1, 4, 5), 32);
  v128.store(dst, v128.shuffle<i32>(c, d, 2, 3, 6, 7), 48);
}

/**
 * V = B^T d B of 4 neighbouring tiles (tile k's d[r][j] at src + k*2*cs + r*rs + j*cs) for 8
 * channels into one block: V[p] of channel pair k, tile t at dst + p*pStride + k*16 + t*4.
 * Per (p, 4 tiles): 16 loads, 12 adds, an 8-shuffle transpose and 4 stores (scattering each
 * tile's 4 pairs with 32-bit lane stores measured store-bound).
 */
function inputTransform4(src: usize, rs: usize, cs: usize, dst: usize, pStride: usize): void {
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

export function conv3x3Winograd(
  inPtr: usize, inH: i32, inW: i32, cin: i32, inZp: i32,
  outPtr: usize, outH: i32, outW: i32, outPixelStride: i32, cout: i32,
  padTop: i32, padLeft: i32,
  wPtr: usize, biasPtr: usize, multPtr: usize, shiftPtr: usize,
  outZp: i32, actMin: i32, actMax: i32,
  scratchPtr: usize, scratchBytes: i32,
): void {
  const tilesY = (outH + 1) >> 1, tilesX = (outW + 1) >> 1;
  const blockBytes = TB * 16 * cin * 2; // one block's V
  // column chunk: the widened rows of a chunk + one block + the accumulators must fit
  let tcw = tilesX;
  while (tcw > 1 && chunkBytes(tcw, cin) > scratchBytes) tcw = (tcw + 1) >> 1;
  if (chunkBytes(tcw, cin) > scratchBytes) fail(ERR_SCRATCH);
  const rowsBytesMax = 4 * (2 * padTiles(tcw) + 2) * cin * 2;
  const mBuf = scratchPtr;
  const params = scratchPtr + usize(2 * TB * 16 * 16);
  const rowsBuf = scratchPtr + usize(M_BYTES);
  const vBuf = rowsBuf + usize(rowsBytesMax);
  const blocksFit = (scratchBytes - M_BYTES - rowsBytesMax) / blockBytes;

  const pairs = cin >> 1;
  const pStride = usize(pairs * TB * 4); // bytes between a block's p slots
  const pairStride = usize(TB * 4);
  const groupBytes = usize(4 * 16 * cin * 2);
  const ps = usize(outPixelStride);
  const zpv = i16x8.splat(i16(outZp)), mnv = i16x8.splat(i16(actMin)), mxv = i16x8.splat(i16(actMax));
  for (let tx0 = 0; tx0 < tilesX; tx0 += tcw) {
    const tx1 = min(tx0 + tcw, tilesX);
    const tw = padTiles(tx1 - tx0); // tiles from tx1 on (whole blocks) are computed, not stored
    const cols = 2 * tw + 2;
    const rowStride = usize(cols * cin * 2);
    // tile rows per band: as many blocks of V as the scratch holds
    let band = (blocksFit * TB) / tw;
    if (band < 1) band = 1;
    for (let ty0 = 0; ty0 < tilesY; ty0 += band) {
      const ty1 = min(ty0 + band, tilesY);
      const nt = (ty1 - ty0) * tw;
      // input transform of the band
      for (let ty = ty0; ty < ty1; ty++) {
        widenRows(rowsBuf, inPtr, 2 * ty - padTop, inH, inW, cin, inZp, 2 * tx0 - padLeft, cols);
        for (let k = 0; k < tw; k += TB) {
          const t = (ty - ty0) * tw + k;
          const vb = vBuf + usize(t / TB) * usize(blockBytes);
          const src = rowsBuf + usize(2 * k * cin * 2);
          for (let c = 0; c < cin; c += 8) inputTransform4(src + usize(c << 1), rowStride, usize(cin << 1), vb + usize(c >> 1) * pairStride, pStride);
        }
      }
      const blocks = (nt + TB - 1) / TB;
      // output channels 8 at a time (two packed groups of 4; a last lone group runs twice, once discarded)
      for (let o = 0; o < cout; o += 8) {
        const oB = o + 4 < cout ? o + 4 : o;
        const wA = wPtr + usize(o >> 2) * groupBytes, wB = wPtr + usize(oB >> 2) * groupBytes;
        requantParams(params, o, cout, biasPtr, multPtr, shiftPtr);
        requantParams(params + PARAM_BYTES, oB, cout, biasPtr, multPtr, shiftPtr);
        for (let b = 0; b < blocks; b++) {
          const vb = vBuf + usize(b) * usize(blockBytes);
          for (let p = 0; p < 16; p++) {
            let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
            let b0 = i32x4.splat(0), b1 = i32x4.splat(0), b2 = i32x4.splat(0), b3 = i32x4.splat(0);
            let q = vb + usize(p) * pStride;
            const wOff = usize(p * pairs * 16);
            let w = wA + wOff, w2 = wB + wOff;
            const qe = q + pStride;
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
            // m[group][tile][p]
            const mp = mBuf + usize(p << 4);
            v128.store(mp, a0);
            v128.store(mp, a1, 256);
            v128.store(mp, a2, 512);
            v128.store(mp, a3, 768);
            v128.store(mp, b0, 1024);
            v128.store(mp, b1, 1280);
            v128.store(mp, b2, 1536);
            v128.store(mp, b3, 1792);
          }
          // output transform, requantization, stores per tile of the block
          const tEnd = min(TB, nt - b * TB);
          for (let k = 0; k < tEnd; k++) {
            const t = b * TB + k;
            const tx = tx0 + t % tw;
            if (tx >= tx1) continue;
            const y = 2 * (ty0 + t / tw), x = 2 * tx;
            const d = outPtr + usize(y * outW + x) * ps;
            const right = x + 1 < outW, below = y + 1 < outH;
            outputTile(mBuf + usize(k << 8), params, d + usize(o), ps, usize(outW) * ps, min(4, cout - o), right, below, zpv, mnv, mxv);
            if (oB != o) outputTile(mBuf + usize(1024 + (k << 8)), params + PARAM_BYTES, d + usize(oB), ps, usize(outW) * ps, min(4, cout - oB), right, below, zpv, mnv, mxv);
          }
        }
      }
    }
  }
}

/** bytes of one group's requantization constants (requantParams) */
export const PARAM_BYTES = 208;

/**
 * The requantization constants of output channels o..o+3 (the last ones repeated past cout) at dst:
 * 12 v128 (bias, multiplier, round, unbias, bound pairs laid as the lanes [x c, x+1 c, x c', x+1 c'])
 * and the 4 shift totals.
 */
export function requantParams(dst: usize, o: i32, cout: i32, biasPtr: usize, multPtr: usize, shiftPtr: usize): void {
  const o1 = min(o + 1, cout - 1), o2 = min(o + 2, cout - 1), o3 = min(o + 3, cout - 1);
  const s0 = load<i32>(shiftPtr + usize(o << 2)), s1 = load<i32>(shiftPtr + usize(o1 << 2));
  const s2 = load<i32>(shiftPtr + usize(o2 << 2)), s3 = load<i32>(shiftPtr + usize(o3 << 2));
  v128.store(dst, pair(load<i32>(biasPtr + usize(o << 2)), load<i32>(biasPtr + usize(o1 << 2))));
  v128.store(dst, pair(load<i32>(biasPtr + usize(o2 << 2)), load<i32>(biasPtr + usize(o3 << 2))), 16);
  v128.store(dst, pair(load<i32>(multPtr + usize(o << 2)), load<i32>(multPtr + usize(o1 << 2))), 32);
  v128.store(dst, pair(load<i32>(multPtr + usize(o2 << 2)), load<i32>(multPtr + usize(o3 << 2))), 48);
  v128.store(dst, i64x2.splat(roundConst(s0)), 64);
  v128.store(dst, i64x2.splat(roundConst(s1)), 80);
  v128.store(dst, i64x2.splat(roundConst(s2)), 96);
  v128.store(dst, i64x2.splat(roundConst(s3)), 112);
  v128.store(dst, pair(unbiasConst(s0), unbiasConst(s1)), 128);
  v128.store(dst, pair(unbiasConst(s2), unbiasConst(s3)), 144);
  v128.store(dst, pair(accBound(s0), accBound(s1)), 160);
  v128.store(dst, pair(accBound(s2), accBound(s3)), 176);
  store<i32>(dst, 31 - s0, 192);
  store<i32>(dst, 31 - s1, 196);
  store<i32>(dst, 31 - s2, 200);
  store<i32>(dst, 31 - s3, 204);
}

/**
 * One tile of one group of 4 output channels: Y = A^T m A / 4 (exact) from m[p] at m + p*16,
 * stored through outputPair at d (row y) and d + rowBytes (row y+1, if `below`).
 */
// @ts-ignore: decorator
@inline function outputTile(m: usize, rq: usize, d: usize, ps: usize, rowBytes: usize, nOut: i32, right: bool, below: bool, zpv: v128, mnv: v128, mxv: v128): void {
  // rows of A^T m (j = 0..3), then the columns: y[a][0] = r0+r1+r2, y[a][1] = r1-r2-r3
  const u0 = rowA0(m, 0), u1 = rowA0(m, 1), u2 = rowA0(m, 2), u3 = rowA0(m, 3);
  outputPair(i32x4.shr_s(i32x4.add(i32x4.add(u0, u1), u2), 2), i32x4.shr_s(i32x4.sub(i32x4.sub(u1, u2), u3), 2), rq, d, ps, nOut, right, zpv, mnv, mxv);
  if (below) {
    const v0 = rowA1(m, 0), v1 = rowA1(m, 1), v2 = rowA1(m, 2), v3 = rowA1(m, 3);
    outputPair(i32x4.shr_s(i32x4.add(i32x4.add(v0, v1), v2), 2), i32x4.shr_s(i32x4.sub(i32x4.sub(v1, v2), v3), 2), rq, d + rowBytes, ps, nOut, right, zpv, mnv, mxv);
  }
}

/**
 * Two neighbouring pixels' sums (y0: pixel x, y1: pixel x+1; lanes = 4 output channels):
 * + bias, requantized with the constants at rq (requantParams), clamped and stored at d
 * (nOut channels; pixel x+1 at d + ps if `right`).
 */
// @ts-ignore: decorator
@inline export function outputPair(y0: v128, y1: v128, rq: usize, d: usize, ps: usize, nOut: i32, right: bool, zpv: v128, mnv: v128, mxv: v128): void {
  const loA = i32x4.neg(v128.load(rq, 160)), loB = i32x4.neg(v128.load(rq, 176));
  // lanes [x o, x+1 o, x o1, x+1 o1] and [.. o2, .. o3]: one shift per 64-bit half
  const rA = mulByQuantizedMultiplier2x2(i32x4.add(v128.shuffle<i32>(y0, y1, 0, 4, 1, 5), v128.load(rq)), v128.load(rq, 32),
    v128.load(rq, 64), load<i32>(rq, 192), v128.load(rq, 80), load<i32>(rq, 196), v128.load(rq, 128), loA, v128.load(rq, 160));
  const rB = mulByQuantizedMultiplier2x2(i32x4.add(v128.shuffle<i32>(y0, y1, 2, 6, 3, 7), v128.load(rq, 16)), v128.load(rq, 48),
    v128.load(rq, 96), load<i32>(rq, 200), v128.load(rq, 112), load<i32>(rq, 204), v128.load(rq, 144), loB, v128.load(rq, 176));
  // int8 lanes [x o..o3, x+1 o..o3]
  storePixels(d, ps, i8x16.shuffle(finish8(rA, rB, zpv, mnv, mxv), zpv, 0, 2, 4, 6, 1, 3, 5, 7, 0, 0, 0, 0, 0, 0, 0, 0), nOut, right);
}

/** Store the int8 lanes [pixel x: 4 channels, pixel x+1: 4 channels] (nOut channels, the second pixel if `right`). */
// @ts-ignore: decorator
@inline function storePixels(d: usize, ps: usize, q: v128, nOut: i32, right: bool): void {
  if (nOut == 4) {
    v128.store32_lane(d, q, 0);
    if (right) v128.store32_lane(d + ps, q, 1);
  } else {
    v128.store8_lane(d, q, 0);
    if (nOut > 1) v128.store8_lane(d + 1, q, 1);
    if (nOut > 2) v128.store8_lane(d + 2, q, 2);
    if (right) {
      v128.store8_lane(d + ps, q, 4);
      if (nOut > 1) v128.store8_lane(d + ps + 1, q, 5);
      if (nOut > 2) v128.store8_lane(d + ps + 2, q, 6);
    }
  }
}
