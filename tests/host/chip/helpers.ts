// Shared pieces of the chip model tests: small architectures, a single-conv
// graph for hand-computed cases, and independent counts (weights, input bytes)
// computed from the graph without the compiler.
import { buildGraph, convOps, type Arch, type ConvOp, type Graph } from '../../../models/graph.js';
import type { ChipConfig } from '../../../host/chip/chip-config.js';

export const SMALL_ARCHS: Arch[] = [
  { filters: 1, height: 32, width: 32, channels: 1 },
  { filters: 2, height: 32, width: 48, channels: 3 },
  { filters: 4, height: 64, width: 64, channels: 1 },
];

/** Conv weight bytes of a graph (int8, one byte per weight), counted straight from the ops. */
export function convWeightBytes(g: Graph): number {
  return convOps(g).reduce((s, op) => s + op.cout * op.k * op.k * op.cin, 0);
}

export function inputBytes(a: Arch): number {
  return a.height * a.width * a.channels;
}

/** A graph of one 3x3 conv, input h x w x cin -> output h x w x cout (same padding, stride 1). */
export function oneConvGraph(h: number, w: number, cin: number, cout: number): Graph {
  const conv: ConvOp = { kind: 'conv', name: 'conv', block: 'conv2d', unit: 'encoder', input: 'input', output: 'out', k: 3, stride: 1, cin, cout, relu: true, pads: [1, 1, 1, 1] };
  const tensors = new Map([
    ['input', { name: 'input', h, w, c: cin }],
    ['out', { name: 'out', h, w, c: cout }],
  ]);
  const base = buildGraph({ filters: 1, height: 16, width: 16, channels: 1 });
  return { arch: { filters: 1, height: h, width: w, channels: cin as 1 }, ops: [conv], tensors, attention: [] as unknown as Graph['attention'], skips: base.skips, output: 'out' };
}

/** A minimal valid config for hand computations. */
export function handConfig(over: { sram: number; bytesPerCycle: number; latency: number; macs: number; engines?: number }): ChipConfig {
  const unit = { macsPerCycle: over.macs, elementwiseOpsPerCycle: 4 };
  return {
    name: 'hand',
    clockHz: 1e6,
    dram: { bytesPerCycle: over.bytesPerCycle, latencyCycles: over.latency, bytes: 1 << 20 },
    sram: { bytes: over.sram, banks: 1 },
    units: { encoder: { ...unit }, attention: { ...unit }, decoder: { ...unit } },
    dma: { engines: over.engines ?? 1 },
  };
}
