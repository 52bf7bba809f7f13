// The direct whole-layer executor: runs the graph op by op on any KernelSet
// (WASM or the TypeScript reference), each op over the whole tensor.
//
// Prepare once, run blind (the shape of TFLite Micro's prepare/eval split):
// at load the QModel is validated against its graph, every weight and
// parameter is written into the heap once (conv weights in the kernels' packed
// layout), the activation arena is planned once with the greedy planner, and
// each op becomes a closure over constant pointers. A frame then costs the
// kernel calls plus copying the input in and the outputs out; the heap never
// grows after load.
//
// Heap layout (one region reserved per engine, host/kernels/heap-reservation.ts):
//   [ weights and params (persistent) | activation arena (planned) ]
import { opInputs, opMacs, type Graph, type Op } from '../../models/graph.js';
import type { QModel, QOpParams } from '../../models/qmodel.js';
import { validateQModel, ModelError as QModelError } from '../../models/qmodel-check.js';
import { AunetError, type ErrorCode } from '../../common/errors.js';
import { reserveHeap } from '../kernels/heap-reservation.js';
import { GreedyMemoryPlanner } from './planner.js';
import { MemoryRecording } from './memory-recording.js';
import { inferenceResult, uint8Map, type Engine, type InferenceResult, type ProbabilityMap } from './engine.js';
import { CONV3X3_SCRATCH_BYTES, type KernelSet } from '../kernels/kernel-set.js';

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

/** A model or frame the engine cannot run; the message names the field. */
export class EngineInputError extends AunetError {
  constructor(message: string, code: ErrorCode = 'BAD_INPUT') {
    super(code, message);
    this.name = 'EngineInputError';
  }
}

const ALIGN = 16;
/** kernel scratch after the arena: conv3x3 and affine work in it */
const SCRATCH_BYTES = CONV3X3_SCRATCH_BYTES;
const align = (n: number) => Math.ceil(n / ALIGN) * ALIGN;

export function createDirectEngine(model: QModel, kernels: KernelSet, options: DirectEngineOptions = {}): DirectEngine {
  const g = validate(model);
  const memory = new MemoryRecording();

  // 1. persistent region: offsets of every op's weights and params
  const writes: ((heap: ArrayBuffer, base: number) => void)[] = [];
  let persistent = 0;
  const place = (bytes: number, category: 'weights' | 'params', label: string, write: (heap: ArrayBuffer, at: number) => void) => {
    const at = persistent;
    persistent = align(persistent + bytes);
    memory.record(category, label, bytes);
    writes.push((heap, base) => write(heap, base + at));
    return at;
  };
  const int32s = (a: Int32Array, label: string) => place(a.byteLength, 'params', label, (heap, at) => new Int32Array(heap, at, a.length).set(a));
  const int8s = (a: Int8Array, category: 'weights' | 'params', label: string) =>
    place(a.byteLength, category, label, (heap, at) => new Int8Array(heap, at, a.length).set(a));

  const ptrs = new Map<string, Ptrs>();
  for (const op of g.ops) {
    const p = model.ops[op.name] as QOpParams | undefined;
    if (op.kind === 'conv' && p?.kind === 'conv') {
      const { k, cin, cout } = op;
      const w = place(cout * kernels.convWeightBytes(k, cin), 'weights', `${op.name} weights`, (_heap, at) => kernels.packConvWeights(k, cin, cout, p.weights, at));
      ptrs.set(op.name, { w, bias: int32s(p.bias, `${op.name} bias`), mult: int32s(p.multiplier, `${op.name} multiplier`), shift: int32s(p.shift, `${op.name} shift`), lut: -1 });
    } else if (op.kind === 'affine' && p?.kind === 'affine') {
      const w = int8s(p.weights, 'weights', `${op.name} weights`);
      ptrs.set(op.name, { w, bias: int32s(p.bias, `${op.name} bias`), mult: int32s(p.multiplier, `${op.name} multiplier`), shift: int32s(p.shift, `${op.name} shift`), lut: -1 });
    } else if (op.kind === 'sigmoid' && p?.kind === 'sigmoid') {
      ptrs.set(op.name, { w: -1, bias: -1, mult: -1, shift: -1, lut: int8s(p.lut, 'params', `${op.name} lut`) });
    }
  }

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

  // 3. reserve the heap once and write the persistent data
  const base = reserveHeap(kernels, persistent + arenaBytes + SCRATCH_BYTES, ALIGN);
  const scratch = base + persistent + arenaBytes;
  for (const w of writes) w(kernels.heap, base);
  const arena = base + persistent;
  const ptr = (t: string) => arena + planner.offsetOf(bufferOf.get(t)!);
  const zp = (t: string) => model.tensors[t].zeroPoint;

  // 4. the schedule: one closure per op over constant arguments
  const steps: EngineStep[] = [];
  const calls: (() => void)[] = [];
  for (const op of g.ops) {
    steps.push({ name: op.name, kind: op.kind, block: op.block, unit: op.unit, macs: opMacs(op, g.tensors) });
    const rel = ptrs.get(op.name);
    const abs = rel && { w: base + rel.w, bias: base + rel.bias, mult: base + rel.mult, shift: base + rel.shift, lut: base + rel.lut };
    calls.push(compileOp(op, model.ops[op.name], g, kernels, ptr, zp, abs, scratch));
  }

  // 5. frame IO
  const { height: H, width: W, channels: C } = g.arch;
  const inBytes = H * W * C;
  const inPtr = ptr('input');
  let u8 = new Uint8Array(kernels.heap);
  const views = () => {
    if (u8.buffer !== kernels.heap) u8 = new Uint8Array(kernels.heap); // another engine grew the heap
    return u8;
  };
  const writeInput = (input: Uint8Array) => {
    if (!(input instanceof Uint8Array)) throw new EngineInputError('input frame must be a Uint8Array of 8-bit pixels');
    if (input.length !== inBytes) {
      throw new EngineInputError(`input frame has ${input.length} bytes; the model needs height*width*channels = ${H}*${W}*${C} = ${inBytes}`, 'BAD_FRAME_SIZE');
    }
    const heap = views();
    heap.set(input, inPtr);
    flipSign(heap, inPtr, inBytes); // pixel -> pixel - 128 as int8
  };
  const readMap = (t: string): ProbabilityMap => {
    const s = g.tensors.get(t)!;
    return uint8Map(u8.subarray(ptr(t)), s.w, s.h);
  };
  const result = (): InferenceResult => {
    views();
    return inferenceResult(readMap(g.output), g.attention.map(readMap));
  };

  const engine: DirectEngine = {
    name: `direct/${kernels.name}`,
    arch: g.arch,
    peakBytes: arenaBytes,
    steps,
    memory,
    run(input) {
      writeInput(input);
      for (let i = 0; i < calls.length; i++) calls[i]();
      return result();
    },
    runProfiled(input, times, cpuTimes) {
      if (times.length < calls.length || (cpuTimes && cpuTimes.length < calls.length)) {
        throw new RangeError(`profile arrays need ${calls.length} entries`);
      }
      writeInput(input);
      for (let i = 0; i < calls.length; i++) {
        const c0 = cpuTimes ? process.cpuUsage() : undefined;
        const t0 = performance.now();
        calls[i]();
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

function validate(model: QModel): Graph {
  try {
    return validateQModel(model);
  } catch (e) {
    if (e instanceof QModelError) throw new EngineInputError(`model ${e.message}`, 'BAD_MODEL');
    throw e;
  }
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

/** XOR 0x80 over n bytes at `at`: int8 q <-> uint8 q + 128 (words where aligned). */
function flipSign(bytes: Uint8Array, at: number, n: number): void {
  let i = at;
  const end = at + n;
  const abs = bytes.byteOffset + i;
  if (abs % 4 === 0 && n >= 4) {
    const words = new Uint32Array(bytes.buffer, abs, n >> 2);
    for (let j = 0; j < words.length; j++) words[j] ^= 0x80808080;
    i += words.length << 2;
  }
  for (; i < end; i++) bytes[i] ^= 0x80;
}

/** heap offsets of one op's params (relative to the persistent region in `ptrs`, absolute in compileOp) */
interface Ptrs { w: number; bias: number; mult: number; shift: number; lut: number }

/** One op as a closure over constant arguments: the whole per-op cost of a frame is the kernel call. */
function compileOp(
  op: Op, p: QOpParams | undefined, g: Graph, k: KernelSet,
  ptr: (t: string) => number, zp: (t: string) => number, pp: Ptrs | undefined, scratch: number,
): () => void {
  const shape = (t: string) => g.tensors.get(t)!;
  const out = ptr(op.output);
  const oZp = zp(op.output);
  const o = shape(op.output);
  switch (op.kind) {
    case 'conv': {
      if (p?.kind !== 'conv' || !pp) break;
      const i = shape(op.input);
      const inP = ptr(op.input);
      const iZp = zp(op.input);
      const { cin, cout, stride } = op;
      const [pt, pl] = p.pads;
      const { w, bias, mult, shift } = pp;
      const { actMin, actMax } = p;
      if (op.k === 1) {
        const pixels = i.h * i.w;
        return () => k.conv1x1(inP, pixels, cin, iZp, out, cout, cout, w, bias, mult, shift, oZp, actMin, actMax);
      }
      return () => k.conv3x3(inP, i.h, i.w, cin, iZp, out, o.h, o.w, cout, cout, stride, pt, pl, w, bias, mult, shift, oZp, actMin, actMax, scratch, SCRATCH_BYTES);
    }
    case 'maxpool': {
      const i = shape(op.input);
      const inP = ptr(op.input);
      return () => k.maxpool2x2(inP, i.h, i.w, i.c, out);
    }
    case 'upsample': {
      const i = shape(op.input);
      const inP = ptr(op.input);
      return () => k.upsample2x(inP, i.h, i.w, i.c, out);
    }
    case 'concat': {
      if (p?.kind !== 'concat') break;
      const [a, b] = op.inputs;
      const sa = shape(a);
      const sb = shape(b);
      const pa = ptr(a);
      const pb = ptr(b);
      const aZp = zp(a);
      const bZp = zp(b);
      const pixels = o.h * o.w;
      const { inputA: ra, inputB: rb } = p;
      return () => {
        k.requantCopy(pa, pixels, sa.c, aZp, ra.multiplier, ra.shift, oZp, out, o.c);
        k.requantCopy(pb, pixels, sb.c, bZp, rb.multiplier, rb.shift, oZp, out + sa.c, o.c);
      };
    }
    case 'add': {
      if (p?.kind !== 'add') break;
      const [a, b] = op.inputs;
      const pa = ptr(a);
      const pb = ptr(b);
      const aZp = zp(a);
      const bZp = zp(b);
      const n = o.h * o.w * o.c;
      const { leftShift, inputA: ra, inputB: rb, output: ro, actMin, actMax } = p;
      return () => k.add(pa, pb, n, aZp, bZp, leftShift, ra.multiplier, ra.shift, rb.multiplier, rb.shift, ro.multiplier, ro.shift, oZp, actMin, actMax, out);
    }
    case 'sigmoid': {
      if (!pp) break;
      const inP = ptr(op.input);
      const n = o.h * o.w * o.c;
      const lut = pp.lut;
      return () => k.lut(inP, n, lut, out);
    }
    case 'gatemul': {
      if (p?.kind !== 'gatemul') break;
      const pa = ptr(op.attention);
      const ps = ptr(op.skip);
      const s = shape(op.skip);
      const sZp = zp(op.skip);
      const { requant: r, actMin, actMax } = p;
      return () => k.gateMul(pa, ps, s.h, s.w, s.c, sZp, r.multiplier, r.shift, oZp, actMin, actMax, out);
    }
    case 'affine': {
      if (p?.kind !== 'affine' || !pp) break;
      const inP = ptr(op.input);
      const iZp = zp(op.input);
      const pixels = o.h * o.w;
      const c = op.channels;
      const { w, bias, mult, shift } = pp;
      const { actMin, actMax } = p;
      return () => k.affine(inP, pixels, c, iZp, w, bias, mult, shift, oZp, actMin, actMax, out, scratch, SCRATCH_BYTES);
    }
  }
  throw new Error(`internal: op ${op.name} (${op.kind}) has no parameters after validation`);
}
