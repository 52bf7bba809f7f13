// The direct whole-layer executor: runs the graph op by op on any KernelSet
// (WASM or the TypeScript reference), each op over the whole tensor.
//
// Prepare once, run blind (the shape of TFLite Micro's prepare/eval split):
// at load the model is validated and every op prepared by its binding
// (prepared-model.ts, host/kernels/ops), every parameter is written into the
// heap once where the shared placement puts it (conv weights in the kernels'
// packed layout), the activation arena is planned once with the greedy planner,
// and each op becomes its binding's closure over the whole output. The loop
// knows nothing about op kinds. A frame then costs the kernel calls plus copying
// the input in and the outputs out; the heap never grows after load.
//
// Heap layout (one region reserved per engine, host/kernels/heap-reservation.ts):
//   [ weights and params (persistent) | activation arena (planned) | kernel scratch ]
import { opInputs, opMacs, type Graph, type Op } from '../../models/graph.js';
import type { QModel } from '../../models/qmodel.js';
import { reserveHeap } from '../kernels/heap-reservation.js';
import { placeParams, writeParams } from '../kernels/ops/param-placement.js';
import { bandCall, relocate } from '../kernels/ops/op-binding.js';
import { GreedyMemoryPlanner } from './planner.js';
import { MemoryRecording } from './memory-recording.js';
import { readResult, type Engine, type InferenceResult } from './engine.js';
import { EngineInputError, writeFrame } from './engine-input.js';
import { prepareModel } from './prepared-model.js';
import type { KernelSet } from '../kernels/kernel-set.js';

export interface DirectEngineOptions {
  /**
   * Give every tensor its own arena buffer so that `tensor(name)` can read any
   * of them after a run (fidelity tools, debugging). Costs the sum of all
   * activation sizes instead of the planned peak.
   */
  keepTensors?: boolean;
}

/** One op of the schedule, for profiles and per-layer reports. */
export interface EngineStep {
  name: string;
  kind: Op['kind'];
  block: string;
  unit: Op['unit'];
  macs: number;
}

export interface DirectEngine extends Engine {
  readonly steps: readonly EngineStep[];
  /** bytes held by category: weights, params, activations */
  readonly memory: MemoryRecording;
  /**
   * Run one frame, adding each step's wall milliseconds into `times[i]` and, when
   * given, its process CPU milliseconds into `cpuTimes[i]` (both length steps.length).
   */
  runProfiled(input: Uint8Array, times: Float64Array, cpuTimes?: Float64Array): InferenceResult;
}

const ALIGN = 16;

export function createDirectEngine(model: QModel, kernels: KernelSet, options: DirectEngineOptions = {}): DirectEngine {
  const { graph: g, ops } = prepareModel(model);
  const memory = new MemoryRecording();

  // 1. persistent region: every op's parameter planes, where the shared placement puts them
  const params = placeParams(g, kernels);
  params.ops.forEach((placed, i) => {
    for (const { plane } of placed?.planes ?? []) memory.record(plane.category, `${g.ops[i].name} ${plane.name}`, plane.bytes);
  });
  const persistent = Math.ceil(params.bytes / ALIGN) * ALIGN;

  // 2. activation arena: one buffer per tensor, lifetimes from the op order
  const last = g.ops.length - 1;
  const life = activationLifetimes(g);
  const planner = new GreedyMemoryPlanner(ALIGN);
  const bufferOf = new Map<string, number>();
  for (const [name, [first, lastUse]] of life) {
    const s = g.tensors.get(name)!;
    bufferOf.set(name, options.keepTensors ? planner.addBuffer(s.h * s.w * s.c, 0, last) : planner.addBuffer(s.h * s.w * s.c, first, lastUse));
  }
  const arenaBytes = planner.maxSize();
  memory.record('activations', 'arena', arenaBytes);

  // 3. one call per op over its whole output, offsets relative to the region; the scratch
  //    all ops share (they run one after another) is the largest any of them asks for
  const at = (t: string) => persistent + planner.offsetOf(bufferOf.get(t)!);
  const calls = ops.map((p, i) => {
    const o = g.tensors.get(p.op.output)!;
    const planes = params.ops[i]?.planes.map((q) => ({ at: q.at, perChannel: q.plane.perChannel })) ?? [];
    return bandCall(p.op, g, p.geometry(g), at, planes, 0, o.h, 0, o.c);
  });
  const scratchBytes = Math.max(0, ...ops.map((p, i) => p.scratchBytes(calls[i])));

  // 4. reserve the heap once, write the persistent data, bind every op
  const base = reserveHeap(kernels, persistent + arenaBytes + scratchBytes, ALIGN);
  writeParams(kernels, params, g, model, base);
  const scratch = { ptr: base + persistent + arenaBytes, bytes: scratchBytes };
  const ptr = (t: string) => base + at(t);
  const steps: EngineStep[] = g.ops.map((op) => ({ name: op.name, kind: op.kind, block: op.block, unit: op.unit, macs: opMacs(op, g.tensors) }));
  const run: (() => void)[] = ops.map((p, i) => p.bind(kernels, relocate(calls[i], base), scratch));

  // 5. frame IO
  const inPtr = ptr('input');
  let u8 = new Uint8Array(kernels.heap);
  const views = () => {
    if (u8.buffer !== kernels.heap) u8 = new Uint8Array(kernels.heap); // another engine grew the heap
    return u8;
  };
  const result = (): InferenceResult => readResult(views(), g, ptr);

  const engine: DirectEngine = {
    name: `direct/${kernels.name}`,
    arch: g.arch,
    peakBytes: arenaBytes,
    steps,
    memory,
    run(input) {
      writeFrame(views(), inPtr, input, g.arch);
      for (let i = 0; i < run.length; i++) run[i]();
      return result();
    },
    runProfiled(input, times, cpuTimes) {
      if (times.length < run.length || (cpuTimes && cpuTimes.length < run.length)) {
        throw new RangeError(`profile arrays need ${run.length} entries`);
      }
      writeFrame(views(), inPtr, input, g.arch);
      for (let i = 0; i < run.length; i++) {
        const c0 = cpuTimes ? process.cpuUsage() : undefined;
        const t0 = performance.now();
        run[i]();
        times[i] += performance.now() - t0;
        if (cpuTimes && c0) {
          const c = process.cpuUsage(c0);
          cpuTimes[i] += (c.user + c.system) / 1000;
        }
      }
      return result();
    },
  };
  if (options.keepTensors) {
    engine.tensor = (name: string) => {
      const s = g.tensors.get(name);
      if (!s) throw new EngineInputError(`no tensor named ${JSON.stringify(name)} in the graph`, 'BAD_TENSOR');
      const p = ptr(name);
      const h = views();
      return new Int8Array(h.buffer.slice(p, p + s.h * s.w * s.c));
    };
  }
  return engine;
}

/**
 * Each tensor's lifetime as [first op, last op] indices: produced by op `first`
 * (the input: before op 0), read up to op `last`; the results (prob, a1..a4)
 * live to the end because they are read after the last op.
 */
export function activationLifetimes(g: Graph): Map<string, [number, number]> {
  const last = g.ops.length - 1;
  const life = new Map<string, [number, number]>([['input', [0, 0]]]);
  const use = (t: string, i: number) => {
    const l = life.get(t);
    if (!l) throw new Error(`internal: ${t} used before it is produced`);
    l[1] = Math.max(l[1], i);
  };
  g.ops.forEach((op, i) => {
    for (const t of opInputs(op)) use(t, i);
    life.set(op.output, [i, i]);
  });
  for (const t of [g.output, ...g.attention]) use(t, last);
  return life;
}

