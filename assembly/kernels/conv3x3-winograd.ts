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
// (the limit WINOGRAD_MAX_CIN is 1024). The host packs U per output channel (host/kernels/weight-packing.ts):
// [group of 4 channels][p = 4*i + j][channel pair][channel in group][2] as i16.
//
// Loop order: band of tiles (as many as the scratch holds; tile rows x a column chunk)
// -> input transform of the band into V, blocks of 8 tiles laid [block][p][channel pair]
// [tile][2] -> group of 4 output channels -> block of 8 tiles -> p -> channel pairs.
// The inner loop splats one tile's channel pair (v128.load32_splat, a pure load on x64)
// against the group's 4 channels' pair (lanes = output channels), 8 tiles per weight
// load: 8 accumulators, no horizontal sums; the 16 p's accumulators go to a 2 KiB
// buffer, then the output transform, requantization and 4-byte stores per pixel.
import { roundConst, unbiasConst, accBound, mulByQuantizedMultiplier2x2, pair, finish8 } from './quant';
import { fail, ERR_SCRATCH } from './errors';
import { WINOGRAD_MAX_CIN } from '../../host/kernels/kernel-constants';

/** Whether conv3x3 runs (and the host packs) this conv as Winograd F(2x2, 3x3). */
// @ts-ignore: decorator
@inline export function winogradConv3x3(stride: i32, cin: i32): bool {
  return stride == 1 && (cin & 7) == 0 && cin > 0 && cin <= WINOGRAD_MAX_CIN;
}

/** tiles per block: the inner loop's register block */
const TB = 8;
/** bytes of the accumulator buffer: TB tiles x 16 p x one v128 */
const M_BYTES = TB * 16 * 16;

/** Scratch one tile row of a column chunk of `tw` tiles needs: the accumulators, its 4 widened input rows, its blocks of V. */
// @ts-ignore: decorator
@inline function chunkBytes(tw: i32, cin: i32): i32 {
  return M_BYTES + 4 * (2 * tw + 2) * cin * 2 + ((tw + TB - 1) / TB) * TB * 16 * cin * 2;
}

/** Widen input rows iy0..iy0+3, columns ix0..ix0+cols-1 to i16 (x - zp), 0 outside: dst[(r*cols + col)*cin + c]. */
function widenRows(dst: usize, inPtr: usize, iy0: i32, inH: i32, inW: i32, cin: i32, zp: i32, ix0: i32, cols: i32): void {
  const zpv = i16x8.splat(i16(zp));
  const zero = i32x4.splat(0);
  let d = dst;
  for (let r = 0; r < 4; r++) {
    const iy = iy0 + r;
    const rowInside = iy >= 0 && iy < inH;
    for (let col = 0; col < cols; col++) {
      const ix = ix0 + col;
      if (rowInside && ix >= 0 && ix < inW) {
        const src = inPtr + usize((iy * inW + ix) * cin);
        for (let c = 0; c < cin; c += 8) v128.store(d + usize(c << 1), i16x8.sub(v128.load8x8_s(src + usize(c)), zpv));
      } else {
        for (let c = 0; c < cin; c += 8) v128.store(d + usize(c << 1), zero);
      }
      d += usize(cin << 1);
    }
  }
}

/** Store the 4 i32 lanes (= channel pairs k..k+3 of one tile) of v at dst + k*pairStride. */
// @ts-ignore: decorator
@inline function scatterPairs(dst: usize, pairStride: usize, v: v128): void {
  v128.store32_lane(dst, v, 0);
  v128.store32_lane(dst + pairStride, v, 1);
  v128.store32_lane(dst + 2 * pairStride, v, 2);
  v128.store32_lane(dst + 3 * pairStride, v, 3);
}

/**
 * V = B^T d B of one tile for 8 channels: d[r][j] at src + r*rowStride + j*colStride; row i of V
 * (p = 4*i + j) goes to dst + p*pStride, its 4 channel pairs pairStride apart.
 */
function inputTransform(src: usize, rowStride: usize, colStride: usize, dst: usize, pStride: usize, pairStride: usize): void {
  const r0 = src, r1 = src + rowStride, r2 = src + 2 * rowStride, r3 = src + 3 * rowStride;
  for (let i = 0; i < 4; i++) {
    // row i of B^T d: one of d0 - d2, d1 + d2, d2 - d1, d1 - d3 (per column)
    const a = i == 0 ? r0 : i == 3 ? r1 : i == 1 ? r1 : r2;
    const b = i == 0 ? r2 : i == 3 ? r3 : i == 1 ? r2 : r1;
    const plus = i == 1;
    const t0 = plus ? i16x8.add(v128.load(a), v128.load(b)) : i16x8.sub(v128.load(a), v128.load(b));
    const t1 = plus ? i16x8.add(v128.load(a + colStride), v128.load(b + colStride)) : i16x8.sub(v128.load(a + colStride), v128.load(b + colStride));
    const t2 = plus ? i16x8.add(v128.load(a + 2 * colStride), v128.load(b + 2 * colStride)) : i16x8.sub(v128.load(a + 2 * colStride), v128.load(b + 2 * colStride));
    const t3 = plus ? i16x8.add(v128.load(a + 3 * colStride), v128.load(b + 3 * colStride)) : i16x8.sub(v128.load(a + 3 * colStride), v128.load(b + 3 * colStride));
    const row = dst + usize(i * 4) * pStride;
    scatterPairs(row, pairStride, i16x8.sub(t0, t2));
    scatterPairs(row + pStride, pairStride, i16x8.add(t1, t2));
    scatterPairs(row + 2 * pStride, pairStride, i16x8.sub(t2, t1));
    scatterPairs(row + 3 * pStride, pairStride, i16x8.sub(t1, t3));
  }
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
  const rowsBytesMax = 4 * (2 * tcw + 2) * cin * 2;
  const mBuf = scratchPtr;
  const rowsBuf = scratchPtr + usize(M_BYTES);
  const vBuf = rowsBuf + usize(rowsBytesMax);
  const blocksFit = (scratchBytes - M_BYTES - rowsBytesMax) / blockBytes;

  const pairs = cin >> 1;
  const pStride = usize(pairs * TB * 4); // bytes between a block's p slots
  const pairStride = usize(TB * 4);
  const groupBytes = usize(4 * 16 * cin * 2);
  const zpv = i16x8.splat(i16(outZp));
  const mnv = i16x8.splat(i16(actMin));
  const mxv = i16x8.splat(i16(actMax));
  const ps = usize(outPixelStride);

  for (let tx0 = 0; tx0 < tilesX; tx0 += tcw) {
    const tx1 = min(tx0 + tcw, tilesX);
    const tw = tx1 - tx0;
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
        for (let tx = tx0; tx < tx1; tx++) {
          const t = (ty - ty0) * tw + (tx - tx0);
          const vt = vBuf + usize(t / TB) * usize(blockBytes) + usize((t % TB) << 2);
          const src = rowsBuf + usize((2 * (tx - tx0)) * cin * 2);
          for (let c = 0; c < cin; c += 8) {
            inputTransform(src + usize(c << 1), rowStride, usize(cin << 1), vt + usize(c >> 1) * pairStride, pStride, pairStride);
          }
        }
      }
      const blocks = (nt + TB - 1) / TB;
      for (let o = 0; o < cout; o += 4) {
        const o1 = min(o + 1, cout - 1), o2 = min(o + 2, cout - 1), o3 = min(o + 3, cout - 1);
        const nOut = min(4, cout - o);
        const wg = wPtr + usize(o >> 2) * groupBytes;
        const s0 = load<i32>(shiftPtr + usize(o << 2)), s1 = load<i32>(shiftPtr + usize(o1 << 2));
        const s2 = load<i32>(shiftPtr + usize(o2 << 2)), s3 = load<i32>(shiftPtr + usize(o3 << 2));
        const biasA = pair(load<i32>(biasPtr + usize(o << 2)), load<i32>(biasPtr + usize(o1 << 2)));
        const biasB = pair(load<i32>(biasPtr + usize(o2 << 2)), load<i32>(biasPtr + usize(o3 << 2)));
        const multA = pair(load<i32>(multPtr + usize(o << 2)), load<i32>(multPtr + usize(o1 << 2)));
        const multB = pair(load<i32>(multPtr + usize(o2 << 2)), load<i32>(multPtr + usize(o3 << 2)));
        const rnd0 = i64x2.splat(roundConst(s0)), rnd1 = i64x2.splat(roundConst(s1));
        const rnd2 = i64x2.splat(roundConst(s2)), rnd3 = i64x2.splat(roundConst(s3));
        const ubA = pair(unbiasConst(s0), unbiasConst(s1)), ubB = pair(unbiasConst(s2), unbiasConst(s3));
        const hiA = pair(accBound(s0), accBound(s1)), hiB = pair(accBound(s2), accBound(s3));
        const loA = i32x4.neg(hiA), loB = i32x4.neg(hiB);
        const t0 = 31 - s0, t1 = 31 - s1, t2 = 31 - s2, t3 = 31 - s3;

        for (let b = 0; b < blocks; b++) {
          const vb = vBuf + usize(b) * usize(blockBytes);
          for (let p = 0; p < 16; p++) {
            let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
            let a4 = i32x4.splat(0), a5 = i32x4.splat(0), a6 = i32x4.splat(0), a7 = i32x4.splat(0);
            let q = vb + usize(p) * pStride;
            let w = wg + usize(p * pairs * 16);
            const qe = q + pStride;
            for (; q < qe; q += 32, w += 16) {
              const wv = v128.load(w);
              a0 = i32x4.add(a0, i32x4.dot_i16x8_s(v128.load32_splat(q), wv));
              a1 = i32x4.add(a1, i32x4.dot_i16x8_s(v128.load32_splat(q, 4), wv));
              a2 = i32x4.add(a2, i32x4.dot_i16x8_s(v128.load32_splat(q, 8), wv));
              a3 = i32x4.add(a3, i32x4.dot_i16x8_s(v128.load32_splat(q, 12), wv));
              a4 = i32x4.add(a4, i32x4.dot_i16x8_s(v128.load32_splat(q, 16), wv));
              a5 = i32x4.add(a5, i32x4.dot_i16x8_s(v128.load32_splat(q, 20), wv));
              a6 = i32x4.add(a6, i32x4.dot_i16x8_s(v128.load32_splat(q, 24), wv));
              a7 = i32x4.add(a7, i32x4.dot_i16x8_s(v128.load32_splat(q, 28), wv));
            }
            // m[tile][p]
            const mp = mBuf + usize(p << 4);
            v128.store(mp, a0);
            v128.store(mp, a1, 256);
            v128.store(mp, a2, 512);
            v128.store(mp, a3, 768);
            v128.store(mp, a4, 1024);
            v128.store(mp, a5, 1280);
            v128.store(mp, a6, 1536);
            v128.store(mp, a7, 1792);
          }
          // output transform, requantization, stores per tile of the block
          const tEnd = min(TB, nt - b * TB);
          for (let k = 0; k < tEnd; k++) {
            const t = b * TB + k;
            const ty = ty0 + t / tw, tx = tx0 + t % tw;
            const m = mBuf + usize(k << 8);
            // rows of A^T m (j = 0..3), then the columns: y[a][0] = r0+r1+r2, y[a][1] = r1-r2-r3; / 4 (exact)
            const u0 = rowA0(m, 0), u1 = rowA0(m, 1), u2 = rowA0(m, 2), u3 = rowA0(m, 3);
            const v0 = rowA1(m, 0), v1 = rowA1(m, 1), v2 = rowA1(m, 2), v3 = rowA1(m, 3);
            const y00 = i32x4.shr_s(i32x4.add(i32x4.add(u0, u1), u2), 2);
            const y01 = i32x4.shr_s(i32x4.sub(i32x4.sub(u1, u2), u3), 2);
            const y10 = i32x4.shr_s(i32x4.add(i32x4.add(v0, v1), v2), 2);
            const y11 = i32x4.shr_s(i32x4.sub(i32x4.sub(v1, v2), v3), 2);
            // lanes [x o, x+1 o, x o1, x+1 o1] and [.. o2, .. o3] as in the direct kernel
            const rA = mulByQuantizedMultiplier2x2(i32x4.add(v128.shuffle<i32>(y00, y01, 0, 4, 1, 5), biasA), multA, rnd0, t0, rnd1, t1, ubA, loA, hiA);
            const rB = mulByQuantizedMultiplier2x2(i32x4.add(v128.shuffle<i32>(y00, y01, 2, 6, 3, 7), biasB), multB, rnd2, t2, rnd3, t3, ubB, loB, hiB);
            const rC = mulByQuantizedMultiplier2x2(i32x4.add(v128.shuffle<i32>(y10, y11, 0, 4, 1, 5), biasA), multA, rnd0, t0, rnd1, t1, ubA, loA, hiA);
            const rD = mulByQuantizedMultiplier2x2(i32x4.add(v128.shuffle<i32>(y10, y11, 2, 6, 3, 7), biasB), multB, rnd2, t2, rnd3, t3, ubB, loB, hiB);
            // int8 lanes [x o..o3, x+1 o..o3]
            const top = i8x16.shuffle(finish8(rA, rB, zpv, mnv, mxv), zpv, 0, 2, 4, 6, 1, 3, 5, 7, 0, 0, 0, 0, 0, 0, 0, 0);
            const bot = i8x16.shuffle(finish8(rC, rD, zpv, mnv, mxv), zpv, 0, 2, 4, 6, 1, 3, 5, 7, 0, 0, 0, 0, 0, 0, 0, 0);
            const y = 2 * ty, x = 2 * tx;
            const d = outPtr + usize(y * outW + x) * ps + usize(o);
            const right = x + 1 < outW, below = y + 1 < outH;
            storePixels(d, ps, top, nOut, right);
            if (below) storePixels(d + usize(outW) * ps, ps, bot, nOut, right);
          }
        }
      }
    }
  }
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
