// 3x3 convolution, stride 1, by Winograd in exact integer arithmetic: the stride-1 path of
// conv3x3 (assembly/kernels/conv3x3.ts) for cin a multiple of 8, up to WINOGRAD_MAX_CIN. Same
// arguments, same bytes as the direct kernel and the reference. Two tile sizes, one loop:
// F(4x4, 3x3) up to WINOGRAD4_MAX_CIN channels (winograd-f4x4.ts: 4x fewer products than the
// direct conv), F(2x2, 3x3) above (winograd-f2x2.ts: 2.25x; fewer weight bytes per product, which
// the deep layers' few tiles need). The host packs each one's weights (host/kernels/weight-packing.ts).
//
// Loop order: band of tiles (as many as the scratch holds; tile rows x a column chunk) ->
// input transform of the band into V, blocks of 4 tiles (winograd-block.ts; a tile row is
// padded to whole blocks) -> 8 output channels (two packed groups of 4) -> block of 4 tiles
// -> p -> channel pairs (dotBlock); each block's accumulators then go through the output
// transform, requantization and stores per pixel.
import { requantParams, PARAM_BYTES } from './quant';
import { fail, ERR_SCRATCH } from './errors';
import { WINOGRAD_MAX_CIN, WINOGRAD4_MAX_CIN } from '../../host/kernels/kernel-constants';
import { widenPixel } from './widen';
import { TB, padTiles, dotBlock } from './winograd-block';
import { inputBlockF2, outputTileF2 } from './winograd-f2x2';
import { inputBlockF4, outputTileF4, F4_WORK_BYTES } from './winograd-f4x4';

/** Output rows (and columns) of a tile of conv3x3's Winograd path for this conv: 4, 2, or 0 (the direct kernel). */
// @ts-ignore: decorator
@inline export function winogradTile(stride: i32, cin: i32): i32 {
  if (stride != 1 || (cin & 7) != 0 || cin <= 0 || cin > WINOGRAD_MAX_CIN) return 0;
  return cin <= WINOGRAD4_MAX_CIN ? 4 : 2;
}

/** Bytes of the fixed buffers of tile size M: accumulators (2 groups x TB tiles x P points), 2 groups' requantization constants, working tiles. */
// @ts-ignore: decorator
@inline function fixedBytes(M: i32): i32 {
  return 2 * TB * (M + 2) * (M + 2) * 16 + 2 * PARAM_BYTES + (M == 4 ? F4_WORK_BYTES : 0);
}

/** Scratch one tile row of a column chunk of `tw` tiles needs: the fixed buffers, its M + 2 widened input rows, its blocks of V. */
// @ts-ignore: decorator
@inline function chunkBytes(M: i32, tw: i32, cin: i32): i32 {
  return fixedBytes(M) + (M + 2) * (M * padTiles(tw) + 2) * cin * 2 + padTiles(tw) * (M + 2) * (M + 2) * cin * 2;
}

/** Widen input rows iy0..iy0+rows-1, columns ix0..ix0+cols-1 to i16 (x - zp), 0 outside: dst[(r*cols + col)*cin + c]. */
function widenRows(dst: usize, inPtr: usize, iy0: i32, inH: i32, inW: i32, cin: i32, zp: i32, ix0: i32, cols: i32, rows: i32): void {
  const zpv = i16x8.splat(i16(zp));
  let d = dst;
  for (let r = 0; r < rows; r++) {
    for (let col = 0; col < cols; col++) {
      widenPixel(d, inPtr, iy0 + r, ix0 + col, inH, inW, cin, zpv);
      d += usize(cin << 1);
    }
  }
}

/** conv3x3 by Winograd with tiles of M (winogradTile: 4 or 2) x M outputs. */
export function conv3x3Winograd(
  M: i32,
  inPtr: usize, inH: i32, inW: i32, cin: i32, inZp: i32,
  outPtr: usize, outH: i32, outW: i32, outPixelStride: i32, cout: i32,
  padTop: i32, padLeft: i32,
  wPtr: usize, biasPtr: usize, multPtr: usize, shiftPtr: usize,
  outZp: i32, actMin: i32, actMax: i32,
  scratchPtr: usize, scratchBytes: i32,
): void {
  const N = M + 2, P = N * N; // input window, points
  const tilesY = (outH + M - 1) / M, tilesX = (outW + M - 1) / M;
  const blockBytes = TB * P * cin * 2; // one block's V
  // column chunk: the widened rows of a chunk + one block + the fixed buffers must fit
  let tcw = tilesX;
  while (tcw > 1 && chunkBytes(M, tcw, cin) > scratchBytes) tcw = (tcw + 1) >> 1;
  if (chunkBytes(M, tcw, cin) > scratchBytes) fail(ERR_SCRATCH);
  const rowsBytesMax = N * (M * padTiles(tcw) + 2) * cin * 2;
  const mBuf = scratchPtr;
  const params = scratchPtr + usize(2 * TB * P * 16);
  const work = params + usize(2 * PARAM_BYTES);
  const rowsBuf = scratchPtr + usize(fixedBytes(M));
  const vBuf = rowsBuf + usize(rowsBytesMax);
  const blocksFit = (scratchBytes - fixedBytes(M) - rowsBytesMax) / blockBytes;

  const pairs = cin >> 1;
  const pStride = usize(pairs * TB * 4); // bytes between a block's p slots
  const groupBytes = usize(4 * P * cin * 2);
  const ps = usize(outPixelStride);
  const rowBytes = usize(outW) * ps;
  const zpv = i16x8.splat(i16(outZp)), mnv = i16x8.splat(i16(actMin)), mxv = i16x8.splat(i16(actMax));
  for (let tx0 = 0; tx0 < tilesX; tx0 += tcw) {
    const tx1 = min(tx0 + tcw, tilesX);
    const tw = padTiles(tx1 - tx0); // tiles from tx1 on (whole blocks) are computed, not stored
    const cols = M * tw + 2;
    const rowStride = usize(cols * cin * 2);
    // tile rows per band: as many blocks of V as the scratch holds
    let band = (blocksFit * TB) / tw;
    if (band < 1) band = 1;
    for (let ty0 = 0; ty0 < tilesY; ty0 += band) {
      const ty1 = min(ty0 + band, tilesY);
      const nt = (ty1 - ty0) * tw;
      // input transform of the band
      for (let ty = ty0; ty < ty1; ty++) {
        widenRows(rowsBuf, inPtr, M * ty - padTop, inH, inW, cin, inZp, M * tx0 - padLeft, cols, N);
        for (let k = 0; k < tw; k += TB) {
          const vb = vBuf + usize(((ty - ty0) * tw + k) / TB) * usize(blockBytes);
          const src = rowsBuf + usize(M * k * cin * 2);
          for (let c = 0; c < cin; c += 8) {
            const s = src + usize(c << 1), d = vb + usize(c >> 1) * usize(TB * 4);
            if (M == 4) inputBlockF4(s, rowStride, usize(cin << 1), d, pStride, work);
            else inputBlockF2(s, rowStride, usize(cin << 1), d, pStride);
          }
        }
      }
      const blocks = (nt + TB - 1) / TB;
      // output channels 8 at a time (two packed groups of 4; a last lone group runs twice, once discarded)
      for (let o = 0; o < cout; o += 8) {
        const oB = o + 4 < cout ? o + 4 : o;
        const wA = wPtr + usize(o >> 2) * groupBytes, wB = wPtr + usize(oB >> 2) * groupBytes;
        const pA = params, pB = params + PARAM_BYTES;
        requantParams(pA, o, cout, biasPtr, multPtr, shiftPtr);
        requantParams(pB, oB, cout, biasPtr, multPtr, shiftPtr);
        const nA = min(4, cout - o), nB = min(4, cout - oB);
        for (let b = 0; b < blocks; b++) {
          dotBlock(vBuf + usize(b) * usize(blockBytes), pStride, wA, wB, pairs, mBuf, P);
          // output transform, requantization, stores per tile of the block
          const tEnd = min(TB, nt - b * TB);
          for (let k = 0; k < tEnd; k++) {
            const t = b * TB + k;
            const tx = tx0 + t % tw;
            if (tx >= tx1) continue;
            const y = M * (ty0 + t / tw), x = M * tx;
            const d = outPtr + usize(y * outW + x) * ps;
            const rows = min(M, outH - y), cols = min(M, outW - x);
            const mA = mBuf + usize(k * P * 16), mB = mBuf + usize((TB + k) * P * 16);
            if (M == 4) {
              outputTileF4(mA, work, pA, d + usize(o), ps, rowBytes, nA, rows, cols, zpv, mnv, mxv);
              if (oB != o) outputTileF4(mB, work, pB, d + usize(oB), ps, rowBytes, nB, rows, cols, zpv, mnv, mxv);
            } else {
              outputTileF2(mA, work, pA, d + usize(o), ps, rowBytes, nA, rows, cols, zpv, mnv, mxv);
              if (oB != o) outputTileF2(mB, work, pB, d + usize(oB), ps, rowBytes, nB, rows, cols, zpv, mnv, mxv);
            }
          }
        }
      }
    }
  }
}
