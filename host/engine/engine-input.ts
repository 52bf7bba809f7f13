// What every engine checks of what it is given, in one place so that the direct
// executor and the chip engine refuse the same model and the same frame with the
// same code and message: the model at load (validateQModel: BAD_MODEL naming the
// field), each frame before it is written (BAD_INPUT, BAD_FRAME_SIZE).
import type { Arch, Graph } from '../../models/graph.js';
import type { QModel } from '../../models/qmodel.js';
import { validateQModel, ModelError } from '../../models/qmodel-check.js';
import { AunetError, type ErrorCode } from '../../common/errors.js';

/** A model or frame the engine cannot run; the message names the field. */
export class EngineInputError extends AunetError {
  constructor(message: string, code: ErrorCode = 'BAD_INPUT') {
    super(code, message);
    this.name = 'EngineInputError';
  }
}

/** The model's graph, or EngineInputError BAD_MODEL naming the first problem. */
export function checkModel(model: QModel): Graph {
  try {
    return validateQModel(model);
  } catch (e) {
    if (e instanceof ModelError) throw new EngineInputError(`model ${e.message}`, 'BAD_MODEL');
    throw e;
  }
}

/** Throws unless `input` is a preprocessed frame of the model's size: height*width*channels 8-bit pixels. */
export function checkFrame(input: unknown, arch: Arch): asserts input is Uint8Array {
  if (!(input instanceof Uint8Array)) throw new EngineInputError('input frame must be a Uint8Array of 8-bit pixels');
  const { height: H, width: W, channels: C } = arch;
  if (input.length !== H * W * C) {
    throw new EngineInputError(`input frame has ${input.length} bytes; the model needs height*width*channels = ${H}*${W}*${C} = ${H * W * C}`, 'BAD_FRAME_SIZE');
  }
}

/** Check a frame and write it at `at` of the heap as the int8 model input (pixel - 128). */
export function writeFrame(heap: Uint8Array, at: number, input: unknown, arch: Arch): void {
  checkFrame(input, arch);
  heap.set(input, at);
  flipSign(heap, at, input.length);
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
