// One entry point for every command that runs the model: pick the engine
// (the direct whole-layer executor or the chip controller) and the kernels.
// Defaults: kernels = the best WebAssembly build host/kernels/wasm-kernels.ts offers; engine =
// 'direct' (aunet run passes 'chip' explicitly).
import type { QModel } from '../../models/qmodel.js';
import type { Engine } from '../engine/engine.js';
import type { KernelSet } from '../kernels/kernel-set.js';
import type { ChipConfig } from '../chip/chip-config.js';
import { UsageError } from '../../common/errors.js';

export type EngineKind = 'chip' | 'direct';
export const ENGINE_KINDS: readonly EngineKind[] = ['chip', 'direct'];

export interface CreateEngineOptions {
  engine?: EngineKind;
  /** kernel backend; default: a fresh instance of the best WASM build (each engine owns its heap) */
  kernels?: KernelSet;
  /** chip engine only: a config object or a preset name (default: the 'default' preset) */
  chip?: ChipConfig | string;
  /** chip engine only: override the config's SRAM size */
  sramBytes?: number;
}

export async function createEngine(model: QModel, options: CreateEngineOptions = {}): Promise<Engine> {
  const kind = options.engine ?? 'direct';
  if (!ENGINE_KINDS.includes(kind)) throw new UsageError(`unknown engine '${String(kind)}' (engines: ${ENGINE_KINDS.join(', ')})`);
  const kernels = options.kernels ?? (await defaultKernels());
  if (kind === 'direct') {
    const { createDirectEngine } = await import('../engine/direct-executor.js');
    return createDirectEngine(model, kernels);
  }
  const { createChipEngine } = await import('../chip/chip-engine.js');
  return createChipEngine(model, kernels, { chip: options.chip, sramBytes: options.sramBytes });
}

/** The best kernel build this Node offers (relaxed SIMD where validated, else SIMD), as a new instance. */
export async function defaultKernels(): Promise<KernelSet> {
  const { createWasmKernels } = await import('../kernels/wasm-kernels.js');
  return createWasmKernels();
}
