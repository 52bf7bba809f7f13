// One conv of a network on random int8 data in a KernelSet's heap, ready to call: the
// set-up the kernel benchmarks share (tests/perf/kernels.bench.ts, wasmtime.bench.ts).
import type { ConvOp, Graph } from '../../models/graph.js';
import { quantizeMultiplier } from '../../models/quant-math.js';
import { CONV3X3_SCRATCH_BYTES, type KernelSet } from '../../host/kernels/kernel-set.js';
import { winogradChunk } from '../../host/kernels/weight-packing.js';
import { Rng } from '../host/kernels/rng.js';

const align = (n: number) => Math.ceil(n / 64) * 64;

/** Lay out `op`'s input, packed weights, output, per-channel params and scratch from offset 0; returns the call. */
export function convLayer(ks: KernelSet, g: Graph, op: ConvOp, seed = 1, scratchBytes = CONV3X3_SCRATCH_BYTES): () => void {
  const rng = new Rng(seed);
  const i = g.tensors.get(op.input)!, o = g.tensors.get(op.output)!;
  const group = ks.convChannelGroup(op.k);
  const wBytes = ks.convWeightBytes(op.k, op.cin, op.stride) * Math.ceil(op.cout / group) * group;
  const inBytes = i.h * i.w * i.c, outBytes = o.h * o.w * o.c;
  const inPtr = 0, wPtr = align(inBytes), outPtr = align(wPtr + wBytes), biasPtr = align(outPtr + outBytes);
  const multPtr = biasPtr + 4 * op.cout, shiftPtr = multPtr + 4 * op.cout, scratch = align(shiftPtr + 4 * op.cout);
  ks.ensureHeap(scratch + scratchBytes);
  new Int8Array(ks.heap, inPtr, inBytes).set(rng.int8(inBytes));
  const weights = rng.int8(op.k * op.k * op.cin * op.cout, -127, 127);
  ks.packConvWeights(op.k, op.cin, op.cout, weights, wPtr, op.stride);
  // the engines' chunking for these weights (host/kernels/ops/conv.ts)
  const chunkCin = op.k === 3 ? winogradChunk(op.stride, op.cin, weights) : 0;
  const i32 = new Int32Array(ks.heap);
  for (let c = 0; c < op.cout; c++) {
    const q = quantizeMultiplier(2 ** (-14 + rng.float()));
    i32[(biasPtr >> 2) + c] = rng.int(-1000, 1000); i32[(multPtr >> 2) + c] = q.multiplier; i32[(shiftPtr >> 2) + c] = q.shift;
  }
  return () => op.k === 3
    ? ks.conv3x3(inPtr, i.h, i.w, i.c, -3, outPtr, o.h, o.w, o.c, op.cout, op.stride, op.pads[0], op.pads[1], wPtr, biasPtr, multPtr, shiftPtr, -128, -128, 127, chunkCin, scratch, scratchBytes)
    : ks.conv1x1(inPtr, i.h * i.w, i.c, -3, outPtr, o.c, op.cout, wPtr, biasPtr, multPtr, shiftPtr, 0, -128, 127);
}
