// The committed golden int8 vectors (golden/*.json, made by golden/generate.ts with exact
// BigInt arithmetic) and the one way to run a vector on a KernelSet, shared by the golden
// test and the Wasmtime test.
import { readFileSync, readdirSync } from 'node:fs';
import type { KernelSet } from '../../../../host/kernels/kernel-set.js';
import { Layout, load, read, packedWeightBytes } from '../harness.js';

/** One golden vector as stored: op, shapes, params, inputs and the expected int8 output. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type GoldenCase = { name: string; op: string; expected: number[] } & Record<string, any>;

const dir = new URL('./', import.meta.url);
export const goldenCases: GoldenCase[] = readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => JSON.parse(readFileSync(new URL(f, dir), 'utf8')));
const i8 = (xs: number[]) => Int8Array.from(xs);
const i32 = (xs: number[]) => Int32Array.from(xs);
const SCRATCH = 1 << 16;

/** Lay out one vector's buffers in `ks`'s heap, run its kernel, return the output bytes. */
export function runGolden(ks: KernelSet, g: GoldenCase): Int8Array {
  const L = new Layout();
  switch (g.op) {
    case 'conv3x3': {
      const inPtr = L.put(i8(g.input)), wPtr = L.weights(packedWeightBytes(ks, 3, g.cin, g.cout, g.stride));
      const b = L.put(i32(g.bias)), m = L.put(i32(g.multiplier)), s = L.put(i32(g.shift));
      const out = L.space(g.expected.length), scratch = L.space(SCRATCH);
      load(ks, L);
      ks.packConvWeights(3, g.cin, g.cout, i8(g.weights), wPtr, g.stride);
      ks.conv3x3(inPtr, g.inH, g.inW, g.cin, g.inZp, out, g.outH, g.outW, g.cout, g.cout, g.stride, g.pads[0], g.pads[1],
        wPtr, b, m, s, g.outZp, g.actMin, g.actMax, 0, scratch, SCRATCH);
      return new Int8Array(read(ks, out, g.expected.length).buffer);
    }
    case 'add': {
      const a = L.put(i8(g.a)), b = L.put(i8(g.b)), out = L.space(g.n);
      load(ks, L);
      ks.add(a, b, g.n, g.aZp, g.bZp, g.leftShift, g.inputA.multiplier, g.inputA.shift, g.inputB.multiplier, g.inputB.shift,
        g.output.multiplier, g.output.shift, g.outZp, g.actMin, g.actMax, out);
      return new Int8Array(read(ks, out, g.n).buffer);
    }
    case 'gateMul': {
      const a = L.put(i8(g.gate)), s = L.put(i8(g.skip)), out = L.space(g.expected.length);
      load(ks, L);
      ks.gateMul(a, s, g.h, g.w, g.c, g.skipZp, g.multiplier, g.shift, g.outZp, g.actMin, g.actMax, out);
      return new Int8Array(read(ks, out, g.expected.length).buffer);
    }
    case 'copyBox': {
      // the box's addresses are offsets into the vector's memory
      const at = L.put(i8(g.memory));
      load(ks, L);
      const [src, dst, ...rest] = g.box as number[];
      ks.copyBox(at + src, at + dst, ...(rest as [number, number, number, number, number, number, number]));
      return new Int8Array(read(ks, at, g.memory.length).buffer);
    }
    default: throw new Error(`unknown golden op ${g.op}`);
  }
}
