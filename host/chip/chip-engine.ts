// An Engine that runs frames through the chip model: the compiled program is
// executed by the machine (bit-exact with the direct executor) and every frame
// reports the modelled cycles. Compilation and timing happen once, at load.
import { buildGraph } from '../../models/graph.js';
import type { QModel } from '../../models/qmodel.js';
import { inferenceResult, uint8Map, type Engine, type InferenceResult, type ProbabilityMap } from '../engine/engine.js';
import type { KernelSet } from '../kernels/kernel-set.js';
import { EngineInputError } from '../engine/direct-executor.js';
import { resolveChipConfig, type ChipConfig } from './chip-config.js';
import { compile, type Program } from './compiler.js';
import { Machine } from './machine.js';
import { timeProgram, type Timing } from './timing.js';

export interface ChipEngineOptions {
  chip?: ChipConfig | string;
  sramBytes?: number;
}

export interface ChipEngine extends Engine {
  readonly program: Program;
  readonly timing: Timing;
  readonly machine: Machine;
}

export function createChipEngine(model: QModel, kernels: KernelSet, options: ChipEngineOptions = {}): ChipEngine {
  const config = resolveChipConfig(options.chip, options.sramBytes);
  const graph = buildGraph(model.arch);
  const pads: Record<string, [number, number, number, number]> = {};
  for (const op of graph.ops) {
    const p = model.ops[op.name];
    if (op.kind === 'conv' && p?.kind === 'conv') pads[op.name] = [...p.pads];
  }
  const program = compile(graph, config, { weightBytes: (k, cin) => kernels.convWeightBytes(k, cin), pads });
  const timing = timeProgram(program);
  const machine = new Machine(program, model, kernels);
  const { height: H, width: W, channels: C } = model.arch;
  const inBytes = H * W * C;

  const map = (t: string): ProbabilityMap => {
    const s = graph.tensors.get(t)!;
    const q = machine.dramTensor(t);
    return uint8Map(new Uint8Array(q.buffer, q.byteOffset, q.length), s.w, s.h);
  };
  return {
    name: `chip/${config.name}/${kernels.name}`,
    arch: model.arch,
    peakBytes: program.regionBytes,
    program,
    timing,
    machine,
    run(input: Uint8Array): InferenceResult {
      if (!(input instanceof Uint8Array)) throw new EngineInputError('input frame must be a Uint8Array of 8-bit pixels');
      if (input.length !== inBytes) {
        throw new EngineInputError(`input frame has ${input.length} bytes; the model needs height*width*channels = ${H}*${W}*${C} = ${inBytes}`, 'BAD_FRAME_SIZE');
      }
      machine.run(input);
      return inferenceResult(map(graph.output), graph.attention.map(map), timing.frame.cycles);
    },
  };
}
