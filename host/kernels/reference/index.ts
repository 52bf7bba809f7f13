// The 'reference' KernelSet: plain TypeScript integer kernels (one file per op,
// named like assembly/kernels/*) over a growable ArrayBuffer heap. Weights are
// kept in OHWI order (the packed layout is the identity), so this set is also the
// readable specification of every kernel's arithmetic. Every call checks that the
// buffers it touches lie inside the heap, because typed arrays would otherwise
// silently drop out-of-range writes.
import type { KernelSet } from '../kernel-set.js';
import { type HeapViews, viewsOf } from './heap.js';
import { conv3x3 } from './conv3x3.js';
import { conv1x1 } from './conv1x1.js';
import { maxpool2x2 } from './maxpool2x2.js';
import { upsample2x } from './upsample2x.js';
import { requantCopy } from './concat.js';
import { add } from './add.js';
import { lut } from './sigmoid.js';
import { gateMul } from './gate.js';
import { affine } from './affine.js';
import { copyBox } from './dma.js';

export function createReferenceKernels(initialBytes = 0): KernelSet {
  let buffer = new ArrayBuffer(initialBytes);
  let views: HeapViews = viewsOf(buffer);
  const span = (what: string, ptr: number, bytes: number) => {
    if (!Number.isInteger(ptr) || ptr < 0 || ptr + bytes > buffer.byteLength) {
      throw new RangeError(`reference kernels: ${what} [${ptr}, ${ptr + bytes}) lies outside the heap of ${buffer.byteLength} bytes`);
    }
  };
  const perChannel = (op: string, bias: number, mult: number, shift: number, n: number) => {
    span(`${op} bias`, bias, 4 * n); span(`${op} multiplier`, mult, 4 * n); span(`${op} shift`, shift, 4 * n);
  };
  const act = (op: string, outZp: number, actMin: number, actMax: number) => {
    if (!(outZp >= -128 && outZp <= 127)) throw new RangeError(`${op}: output zero point ${outZp} outside [-128, 127]`);
    if (!(actMin >= -128 && actMax <= 127 && actMin <= actMax)) throw new RangeError(`${op}: activation range [${actMin}, ${actMax}] not within [-128, 127]`);
  };
  const outSpan = (pixels: number, pixelStride: number, c: number) => (pixels > 0 ? (pixels - 1) * pixelStride + c : 0);

  return {
    name: 'reference',
    get heap() { return buffer; },
    ensureHeap(bytes: number): ArrayBuffer {
      if (bytes > buffer.byteLength) {
        const next = new ArrayBuffer(bytes);
        new Uint8Array(next).set(new Uint8Array(buffer));
        buffer = next;
        views = viewsOf(buffer);
      }
      return buffer;
    },
    convWeightBytes(k: 1 | 3, cin: number): number { return k * k * cin; },
    convChannelGroup: () => 1,
    packConvWeights(k: 1 | 3, cin: number, cout: number, ohwi: Int8Array, dst: number): void {
      const n = k * k * cin * cout;
      if (ohwi.length !== n) throw new RangeError(`packConvWeights: expected ${n} OHWI weights (${cout}x${k}x${k}x${cin}), got ${ohwi.length}`);
      span('packed weights', dst, n);
      views.i8.set(ohwi, dst);
    },
    // scratch: the reference needs none, but checks that the caller's lies in the heap; it sums
    // exactly in any order, so chunkCin is only checked as the WebAssembly kernel checks it
    conv3x3(inPtr, inH, inW, cin, inZp, outPtr, outH, outW, outPixelStride, cout, stride, padTop, padLeft,
      wPtr, biasPtr, multPtr, shiftPtr, outZp, actMin, actMax, chunkCin, scratchPtr, scratchBytes) {
      span('conv3x3 scratch', scratchPtr, scratchBytes);
      if (!Number.isInteger(chunkCin) || chunkCin < 0 || chunkCin % 8 !== 0) throw new RangeError(`conv3x3: chunkCin must be 0 or a positive multiple of 8, got ${chunkCin} (winogradChunk in weight-packing.ts computes it from the weights)`);
      span('conv3x3 input', inPtr, inH * inW * cin);
      span('conv3x3 output', outPtr, outSpan(outH * outW, outPixelStride, cout));
      span('conv3x3 weights', wPtr, 9 * cin * cout);
      perChannel('conv3x3', biasPtr, multPtr, shiftPtr, cout);
      act('conv3x3', outZp, actMin, actMax);
      if (stride !== 1 && stride !== 2) throw new RangeError(`conv3x3: stride must be 1 or 2, got ${stride}`);
      conv3x3(views, inPtr, inH, inW, cin, inZp, outPtr, outH, outW, outPixelStride, cout, stride, padTop, padLeft,
        wPtr, biasPtr, multPtr, shiftPtr, outZp, actMin, actMax);
    },
    conv1x1(inPtr, pixels, cin, inZp, outPtr, outPixelStride, cout, wPtr, biasPtr, multPtr, shiftPtr, outZp, actMin, actMax) {
      span('conv1x1 input', inPtr, pixels * cin);
      span('conv1x1 output', outPtr, outSpan(pixels, outPixelStride, cout));
      span('conv1x1 weights', wPtr, cin * cout);
      perChannel('conv1x1', biasPtr, multPtr, shiftPtr, cout);
      act('conv1x1', outZp, actMin, actMax);
      conv1x1(views, inPtr, pixels, cin, inZp, outPtr, outPixelStride, cout, wPtr, biasPtr, multPtr, shiftPtr, outZp, actMin, actMax);
    },
    maxpool2x2(inPtr, inH, inW, c, outPtr) {
      span('maxpool2x2 input', inPtr, inH * inW * c);
      span('maxpool2x2 output', outPtr, (inH >> 1) * (inW >> 1) * c);
      maxpool2x2(views, inPtr, inH, inW, c, outPtr);
    },
    upsample2x(inPtr, inH, inW, c, outPtr) {
      span('upsample2x input', inPtr, inH * inW * c);
      span('upsample2x output', outPtr, 4 * inH * inW * c);
      upsample2x(views, inPtr, inH, inW, c, outPtr);
    },
    requantCopy(inPtr, pixels, c, inZp, mult, shift, outZp, outPtr, outPixelStride) {
      span('requantCopy input', inPtr, pixels * c);
      span('requantCopy output', outPtr, outSpan(pixels, outPixelStride, c));
      requantCopy(views, inPtr, pixels, c, inZp, mult, shift, outZp, outPtr, outPixelStride);
    },
    add(aPtr, bPtr, n, aZp, bZp, leftShift, aMult, aShift, bMult, bShift, outMult, outShift, outZp, actMin, actMax, outPtr) {
      if (!(leftShift >= 0 && leftShift <= 23) || aShift > 0 || bShift > 0) {
        throw new RangeError(`add: leftShift must be in [0, 23] and input shifts <= 0, got ${leftShift}, ${aShift}, ${bShift}`);
      }
      act('add', outZp, actMin, actMax);
      span('add input a', aPtr, n); span('add input b', bPtr, n); span('add output', outPtr, n);
      add(views, aPtr, bPtr, n, aZp, bZp, leftShift, aMult, aShift, bMult, bShift, outMult, outShift, outZp, actMin, actMax, outPtr);
    },
    lut(inPtr, n, lutPtr, outPtr) {
      span('lut input', inPtr, n); span('lut table', lutPtr, 256); span('lut output', outPtr, n);
      lut(views, inPtr, n, lutPtr, outPtr);
    },
    gateMul(aPtr, skipPtr, h, w, c, skipZp, mult, shift, outZp, actMin, actMax, outPtr) {
      span('gateMul gate', aPtr, ((h + 1) >> 1) * ((w + 1) >> 1));
      act('gateMul', outZp, actMin, actMax);
      span('gateMul skip', skipPtr, h * w * c); span('gateMul output', outPtr, h * w * c);
      gateMul(views, aPtr, skipPtr, h, w, c, skipZp, mult, shift, outZp, actMin, actMax, outPtr);
    },
    affine(inPtr, pixels, c, inZp, wPtr, biasPtr, multPtr, shiftPtr, outZp, actMin, actMax, outPtr) {
      span('affine input', inPtr, pixels * c); span('affine weights', wPtr, c); span('affine output', outPtr, pixels * c);
      perChannel('affine', biasPtr, multPtr, shiftPtr, c);
      act('affine', outZp, actMin, actMax);
      affine(views, inPtr, pixels, c, inZp, wPtr, biasPtr, multPtr, shiftPtr, outZp, actMin, actMax, outPtr);
    },
    copyBox(src, dst, n1, s1, d1, n2, s2, d2, len) {
      if (![n1, s1, d1, n2, s2, d2, len].every((v) => Number.isInteger(v) && v >= 0)) {
        throw new RangeError(`copyBox: counts, strides and length must be non-negative integers, got ${n1}, ${s1}, ${d1}, ${n2}, ${s2}, ${d2}, ${len}`);
      }
      if (n1 === 0 || n2 === 0 || len === 0) return;
      span('copyBox source', src, (n1 - 1) * s1 + (n2 - 1) * s2 + len);
      span('copyBox destination', dst, (n1 - 1) * d1 + (n2 - 1) * d2 + len);
      copyBox(views, src, dst, n1, s1, d1, n2, s2, d2, len);
    },
  };
}
