// 3x3 convolution, stride 1, by Winograd F(4x4, 3x3) in exact integer arithmetic
// (winograd-f4x4.ts): the stride-1 path of conv3x3 (assembly/kernels/conv3x3.ts) for cin a
// multiple of 8, up to WINOGRAD_MAX_CIN. Same arguments, same bytes as the direct kernel and the
// reference; 4x fewer products than the direct conv. The host packs its weights
// (host/kernels/weight-packing.ts).
//
// Loop order: band of tiles (as many as the scratch holds; tile rows x a column chunk) ->
// input transform of the band into V, blocks of 4 tiles (winograd-block.ts; a tile row is
// padded to whole blocks, but rows of 2 or 3 tiles, 8-12 outputs wide, run on into the next
// row instead: padded, an 8x8 layer computed twice its tiles) -> 8 output channels (two packed
// groups of 4) -> block of 4 tiles -> chunk of input channels -> p -> channel pairs (dotBlock);
// each block's accumulators then go through the output transform, requantization and stores
// per pixel. The transform recovers
// a sum exactly while it stays under 2^25 (winograd-f4x4.ts): true of any weights over
// WINOGRAD4_CHUNK_CIN channels, and of these weights over `chunkCin` channels where the caller
// says so (host/kernels/weight-packing.ts winogradChunk bounds them); over more, each chunk's
// sums go through the output transform on their own and add up as Y (each extra chunk: another
// output transform per tile, about a sixth of the layer's time).
import { requantParams, PARAM_BYTES } from './quant';
import { fail, ERR_SCRATCH } from './errors';
import { WINOGRAD_MAX_CIN, WINOGRAD4_CHUNK_CIN } from '../../host/kernels/kernel-constants';
import { widenPixel } from './widen';
import { TB, padTiles, dotBlock } from './winograd-block';
import { inputBlockF4, outputTileF4, F4_WORK_BYTES } from './winograd-f4x4';

/** Output rows and columns of a tile */
const M = 4;
/** Input window of a tile (N x N), and its transform's points */
const N = M + 2, P = N * N;
/**
 * Bytes of the fixed buffers: accumulators (2 groups x TB tiles x P points), 2 groups'
 * requantization constants, the transforms' working tiles, chunk sums (2 groups x TB tiles x 16 outputs).
 */
const FIXED_BYTES = 2 * TB * P * 16 + 2 * PARAM_BYTES + F4_WORK_BYTES + 2 * TB * M * M * 16;

/** Whether conv3x3 runs this conv by Winograd (else the direct kernel): the rule host/kernels/weight-packing.ts packs for. */
// @ts-ignore: decorator
@inline export function winogradConv(stride: i32, cin: i32): bool {
  return stride == 1 && (cin & 7) == 0 && cin > 0 && cin <= WINOGRAD_MAX_CIN;
}

/** Bytes of the widened input rows (N each) of `tileRows` tile rows of `tw` tiles. */
// @ts-ignore: decorator
@inline function rowsBytes(tileRows: i32, tw: i32, cin: i32): i32 {
  return tileRows * N * (M * tw + 2) * cin * 2;
}

/** Scratch `tileRows` tile rows of `tw` tiles need widened at once, with their blocks of V and the fixed buffers. */
// @ts-ignore: decorator
@inline function bandBytes(tileRows: i32, tw: i32, cin: i32): i32 {
  return FIXED_BYTES + rowsBytes(tileRows, tw, cin) + padTiles(tileRows * tw) * P * cin * 2;
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

/** conv3x3 by Winograd F(4x4, 3x3) (winogradConv). */
export function conv3x3Winograd(
  inPtr: usize, inH: i32, inW: i32, cin: i32, inZp: i32,
  outPtr: usize, outH: i32, outW: i32, outPixelStride: i32, cout: i32,
  padTop: i32, padLeft: i32,
  wPtr: usize, biasPtr: usize, multPtr: usize, shiftPtr: usize,
  outZp: i32, actMin: i32, actMax: i32,
  chunkCin: i32,
  scratchPtr: usize, scratchBytes: i32,
): void {
  const tilesY = (outH + M - 1) / M, tilesX = (outW + M - 1) / M;
  const blockBytes = TB * P * cin * 2; // one block's V
  // rows of 2 or 3 tiles: blocks run across tile rows, a band's tile rows all widened at once
  // (as many rows as fit, at least a block's worth); else a row is padded to whole blocks
  let narrowRows = tilesX >= 2 && tilesX < TB ? tilesY : 0;
  while (narrowRows * tilesX > TB && bandBytes(narrowRows, tilesX, cin) > scratchBytes) narrowRows = (narrowRows + 1) >> 1;
  if (narrowRows > 0 && bandBytes(narrowRows, tilesX, cin) > scratchBytes) narrowRows = 0;
  // column chunk: one tile row of it widened, its blocks and the fixed buffers must fit (narrow: the whole row)
  let tcw = tilesX;
  if (narrowRows == 0) {
    while (tcw > 1 && bandBytes(1, padTiles(tcw), cin) > scratchBytes) tcw = (tcw + 1) >> 1;
    if (bandBytes(1, padTiles(tcw), cin) > scratchBytes) fail(ERR_SCRATCH);
  }
  const rowsBytesMax = narrowRows > 0 ? rowsBytes(narrowRows, tilesX, cin) : rowsBytes(1, padTiles(tcw), cin);
  const mBuf = scratchPtr;
  const params = scratchPtr + usize(2 * TB * P * 16);
  const work = params + usize(2 * PARAM_BYTES);
  const ySums = work + usize(F4_WORK_BYTES); // chunk sums [group][tile][row][column]
  const rowsBuf = scratchPtr + usize(FIXED_BYTES);
  const vBuf = rowsBuf + usize(rowsBytesMax);
  const blocksFit = (scratchBytes - FIXED_BYTES - rowsBytesMax) / blockBytes;

  const cs = usize(cin << 1); // bytes of one widened pixel
  const pairs = cin >> 1;
  const pStride = usize(pairs * TB * 4); // bytes between a block's p slots, and between a group's weights' (4 channels x 2 x i16 per pair)
  // channel pairs whose sums one output transform recovers exactly (0: what holds for any weights)
  const chunk = max(chunkCin, WINOGRAD4_CHUNK_CIN) >> 1;
  const groupBytes = usize(4 * P * cin * 2);
  const ps = usize(outPixelStride);
  const rowBytes = usize(outW) * ps;
  const zpv = i16x8.splat(i16(outZp)), mnv = i16x8.splat(i16(actMin)), mxv = i16x8.splat(i16(actMax));
  for (let tx0 = 0; tx0 < tilesX; tx0 += tcw) {
    const tx1 = min(tx0 + tcw, tilesX);
    // tiles from tx1 on (whole blocks) are computed, not stored
    const tw = narrowRows > 0 ? tilesX : padTiles(tx1 - tx0);
    const cols = M * tw + 2;
    const rowStride = usize(cols * cin * 2);
    const tileRowBytes = usize(N) * rowStride; // the widened input rows of one tile row
    // tile rows per band: as many blocks of V as the scratch holds
    let band = narrowRows > 0 ? narrowRows : (blocksFit * TB) / tw;
    if (band < 1) band = 1;
    for (let ty0 = 0; ty0 < tilesY; ty0 += band) {
      const ty1 = min(ty0 + band, tilesY);
      const nt = (ty1 - ty0) * tw;
      const blocks = (nt + TB - 1) / TB;
      // input transform of the band
      if (narrowRows > 0) {
        for (let ty = ty0; ty < ty1; ty++) widenRows(rowsBuf + usize(ty - ty0) * tileRowBytes, inPtr, M * ty - padTop, inH, inW, cin, inZp, M * tx0 - padLeft, cols, N);
        for (let b = 0; b < blocks; b++) {
          // the block's first tile, in row r at column x; the rest of the row, then the next row from its start
          const r = (b * TB) / tw, x = (b * TB) % tw;
          const src = rowsBuf + usize(r) * tileRowBytes + usize(M * x) * cs, next = rowsBuf + usize(r + 1) * tileRowBytes;
          const vb = vBuf + usize(b) * usize(blockBytes);
          for (let c = 0; c < cin; c += 8) inputBlockF4(src + usize(c << 1), next + usize(c << 1), tw - x, rowStride, cs, vb + usize(c >> 1) * usize(TB * 4), pStride, work);
        }
      } else {
        for (let ty = ty0; ty < ty1; ty++) {
          widenRows(rowsBuf, inPtr, M * ty - padTop, inH, inW, cin, inZp, M * tx0 - padLeft, cols, N);
          for (let k = 0; k < tw; k += TB) {
            const vb = vBuf + usize(((ty - ty0) * tw + k) / TB) * usize(blockBytes);
            const src = rowsBuf + usize(M * k) * cs;
            for (let c = 0; c < cin; c += 8) inputBlockF4(src + usize(c << 1), 0, TB, rowStride, cs, vb + usize(c >> 1) * usize(TB * 4), pStride, work);
          }
        }
      }
      // output channels 8 at a time (two packed groups of 4; a last lone group runs twice, once discarded)
      for (let o = 0; o < cout; o += 8) {
        const oB = o + 4 < cout ? o + 4 : o;
        const wA = wPtr + usize(o >> 2) * groupBytes, wB = wPtr + usize(oB >> 2) * groupBytes;
        const pA = params, pB = params + PARAM_BYTES;
        requantParams(pA, o, cout, biasPtr, multPtr, shiftPtr);
        requantParams(pB, oB, cout, biasPtr, multPtr, shiftPtr);
        const nA = min(4, cout - o), nB = min(4, cout - oB);
        for (let b = 0; b < blocks; b++) {
          const vb = vBuf + usize(b) * usize(blockBytes);
          const tEnd = min(TB, nt - b * TB);
          for (let q0 = 0; q0 < pairs; q0 += chunk) {
            const n = min(chunk, pairs - q0);
            const first = q0 == 0, last = q0 + n == pairs;
            const q = usize(q0 << 4); // a pair's bytes in V's and the weights' p slots
            dotBlock(vb + q, pStride, wA + q, wB + q, n, mBuf, P);
            // output transform, requantization, stores per tile of the block
            for (let k = 0; k < tEnd; k++) {
              const t = b * TB + k;
              const tx = tx0 + t % tw;
              if (tx >= tx1) continue;
              const y = M * (ty0 + t / tw), x = M * tx;
              const d = outPtr + usize(y * outW + x) * ps;
              const rows = min(M, outH - y), cols = min(M, outW - x);
              const mA = mBuf + usize(k * P * 16), mB = mBuf + usize((TB + k) * P * 16);
              const sA = ySums + usize(k * M * M * 16), sB = ySums + usize((TB + k) * M * M * 16);
              outputTileF4(mA, work, pA, d + usize(o), ps, rowBytes, nA, rows, cols, zpv, mnv, mxv, sA, first, last);
              if (oB != o) outputTileF4(mB, work, pB, d + usize(oB), ps, rowBytes, nB, rows, cols, zpv, mnv, mxv, sB, first, last);
            }
          }
        }
      }
    }
  }
}
