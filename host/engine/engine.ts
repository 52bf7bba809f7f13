// What every inference engine (the direct whole-layer executor, the chip
// model's engine) offers the rest of the host: one preprocessed frame in, the
// probability map, the mask and the four attention maps out.
import type { Arch, Graph } from '../../models/graph.js';

/** An 8-bit single-channel map: value v means probability v / 256. */
export interface ProbabilityMap {
  width: number;
  height: number;
  data: Uint8Array;
}

/** A result the caller owns: every map is a copy, untouched by later runs. */
export interface InferenceResult {
  /** per-pixel lesion probability at the model's input size */
  prob: ProbabilityMap;
  /** 1 where prob > 0.5 (data > 128), else 0 */
  mask: Uint8Array;
  /** attention maps a1..a4 at their native resolution (H/16, H/8, H/4, H/2) */
  attention: [ProbabilityMap, ProbabilityMap, ProbabilityMap, ProbabilityMap];
  /** chip-model cycles for this frame, when the engine models a chip */
  cycles?: number;
}

export interface Engine {
  readonly name: string;
  readonly arch: Arch;
  /** bytes of the activation arena planned at load (no growth per frame) */
  readonly peakBytes: number;
  /**
   * Run one frame. `input` is the preprocessed model input: height*width*channels
   * 8-bit pixels, NHWC (grey replicated for 3 channels); int8 input is pixel - 128.
   */
  run(input: Uint8Array): InferenceResult;
  /**
   * Optional: the int8 output of every op of the last run, by tensor name
   * (for fidelity tools and debugging).
   */
  tensor?(name: string): Int8Array;
  /** Optional: frames the engine still tunes itself on (host/chip/layer-choice.ts): a benchmark runs them untimed. */
  readonly tuningFrames?: number;
}

/**
 * An engine that runs in another thread (host/box/worker-engine.ts): the same contract,
 * asynchronous. The input's buffer may be transferred away; the result hands it back as `input`.
 */
export interface AsyncEngine {
  readonly name: string;
  readonly arch: Arch;
  readonly peakBytes: number;
  run(input: Uint8Array): Promise<InferenceResult & { input?: Uint8Array }>;
}

/** Copy an int8 sigmoid output (n = width*height bytes at `q`) to its published uint8 form q + 128. */
export function uint8Map(q: Uint8Array, width: number, height: number): ProbabilityMap {
  const data = q.slice(0, width * height);
  for (let i = 0; i < data.length; i++) data[i] ^= 0x80;
  return { width, height, data };
}

/** The result of a run read from the heap: the output and attention maps at `tensorAt(name)`. */
export function readResult(heap: Uint8Array, g: Graph, tensorAt: (tensor: string) => number, cycles?: number): InferenceResult {
  const map = (t: string) => {
    const s = g.tensors.get(t)!;
    return uint8Map(heap.subarray(tensorAt(t)), s.w, s.h);
  };
  return inferenceResult(map(g.output), g.attention.map(map), cycles);
}

/** Assemble a result from the copied maps; the mask is p > 0.5 (value > 128). */
export function inferenceResult(prob: ProbabilityMap, attention: ProbabilityMap[], cycles?: number): InferenceResult {
  const mask = new Uint8Array(prob.data.length);
  for (let i = 0; i < mask.length; i++) mask[i] = prob.data[i] > 128 ? 1 : 0;
  return { prob, mask, attention: attention as InferenceResult['attention'], ...(cycles === undefined ? {} : { cycles }) };
}
