// The chip's active parts as classes with their constants as fields: three
// compute units (encoder, attention, decoder) and the DMA engines. Each knows
// how many cycles a piece of work costs on it; timing.ts schedules them.
import type { ChipConfig, UnitName } from './chip-config.js';

/** A compute unit: an atomicC x atomicK MAC array plus an element-wise pipe. */
export class ComputeUnit {
  readonly macsPerCycle: number;
  /** input channels reduced per cycle (NVDLA's atomic-C); 0 = ideal, cycles = ceil(MACs / rate) */
  readonly atomicC: number;
  /** output channels produced in parallel (atomic-K) */
  readonly atomicK: number;
  readonly elementwiseOpsPerCycle: number;

  constructor(readonly name: UnitName, c: ChipConfig['units'][UnitName]) {
    this.macsPerCycle = c.macsPerCycle;
    this.atomicC = c.atomicC ?? 0;
    this.atomicK = c.atomicC ? c.macsPerCycle / c.atomicC : 0;
    this.elementwiseOpsPerCycle = c.elementwiseOpsPerCycle;
  }

  /**
   * Cycles of a convolution tile: `pixels` output pixels, k x k window, cin
   * inputs, cout outputs. With an atomic array, channel counts that do not fill
   * it waste lanes (ceil), as on NVDLA and in SCALE-Sim's fold count.
   */
  convCycles(pixels: number, k: number, cin: number, cout: number): number {
    if (!this.atomicC) return Math.ceil((pixels * k * k * cin * cout) / this.macsPerCycle);
    return pixels * k * k * Math.ceil(cin / this.atomicC) * Math.ceil(cout / this.atomicK);
  }

  elementwiseCycles(ops: number): number {
    return Math.ceil(ops / this.elementwiseOpsPerCycle);
  }
}

/**
 * A DMA engine between DRAM and SRAM. A transfer of `runs` contiguous runs of
 * `len` bytes costs the DRAM latency once plus its bytes at the DRAM bandwidth,
 * each run rounded up to whole bursts (short strided runs waste bandwidth).
 */
export class DmaEngine {
  readonly bytesPerCycle: number;
  readonly latencyCycles: number;
  readonly burstBytes: number;

  constructor(readonly index: number, c: ChipConfig) {
    this.bytesPerCycle = c.dram.bytesPerCycle;
    this.latencyCycles = c.dram.latencyCycles;
    this.burstBytes = c.dram.burstBytes ?? 1;
  }

  get name(): string {
    return `dma${this.index}`;
  }

  /** cycles the DRAM port is busy moving the data */
  transferCycles(runs: number, len: number): number {
    const b = this.burstBytes;
    return Math.ceil((runs * Math.ceil(len / b) * b) / this.bytesPerCycle);
  }
}

export function computeUnits(c: ChipConfig): Record<UnitName, ComputeUnit> {
  return {
    encoder: new ComputeUnit('encoder', c.units.encoder),
    attention: new ComputeUnit('attention', c.units.attention),
    decoder: new ComputeUnit('decoder', c.units.decoder),
  };
}

export function dmaEngines(c: ChipConfig): DmaEngine[] {
  return Array.from({ length: c.dma.engines }, (_, i) => new DmaEngine(i, c));
}
