// An Engine that runs frames through the chip model: the compiled program is
// executed by the machine (bit-exact with the direct executor) and every frame
// reports the modelled cycles. The model is validated and prepared as the direct
// executor does it (host/engine/prepared-model.ts); compilation and timing
// happen once, at load.
import type { QModel } from '../../models/qmodel.js';
import type { Engine, InferenceResult } from '../engine/engine.js';
import { prepareModel } from '../engine/prepared-model.js';
import type { KernelSet } from '../kernels/kernel-set.js';
import { resolveChipConfig, type ChipConfig } from './chip-config.js';
import { compile, modelPads, type Program } from './compiler.js';
import { Machine, type MachineOptions } from './machine.js';
import { timeProgram, type Timing } from './timing.js';

export interface ChipEngineOptions extends MachineOptions {
  chip?: ChipConfig | string;
  sramBytes?: number;
}

export interface ChipEngine extends Engine {
  readonly program: Program;
  readonly timing: Timing;
  readonly machine: Machine;
}

export function createChipEngine(model: QModel, kernels: KernelSet, options: ChipEngineOptions = {}): ChipEngine {
  const { graph, ops } = prepareModel(model);
  const config = resolveChipConfig(options.chip, options.sramBytes);
  const program = compile(graph, config, { pads: modelPads(model) });
  const timing = timeProgram(program);
  const machine = new Machine(program, model, kernels, ops, { spreadTiles: options.spreadTiles, groupsAhead: options.groupsAhead });
  return {
    name: `chip/${config.name}/${kernels.name}`,
    arch: model.arch,
    peakBytes: program.regionBytes,
    program,
    timing,
    machine,
    get tuningFrames() {
      return machine.tuningFrames;
    },
    run(input: Uint8Array): InferenceResult {
      const r = machine.run(input);
      r.cycles = timing.frame.cycles;
      return r;
    },
  };
}
