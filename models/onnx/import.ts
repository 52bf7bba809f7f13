// importOnnx: an ONNX export of the study's Attention U-Net (PyTorch
// torch.onnx.export or Keras via tf2onnx; NCHW or NHWC; BatchNorm as a node,
// as Mul/Add constants or absent) -> FloatModel. The network is recognised by
// graph structure (match.ts); F, input size and channels come from the graph.
// Anything that is not this topology is refused with a FileError that names
// the node that did not fit. See docs/importers.md.
import { createHash } from 'node:crypto';
import { FileError } from '../../common/errors.js';
import { ArchError, validateArch } from '../graph.js';
import { DEFAULT_PREPROCESSING, type FloatModel } from '../float-model.js';
import { NetworkMatcher } from './match.js';
import { num, onnx, type ModelProto, type TensorProto } from './proto.js';
import { NCHW, NHWC, OnnxWalk, type Layout } from './walk.js';
import { readInputFile } from '../../common/input-file.js';

export interface OnnxImportOptions {
  /** name used in error messages when importing bytes (default 'ONNX model') */
  name?: string;
  /** input height/width when the model declares them symbolically */
  height?: number;
  width?: number;
}

export interface OnnxImportInfo {
  /** 'NCHW' or 'NHWC': how the model takes its input */
  inputLayout: 'NCHW' | 'NHWC';
  inputName: string;
  /** how the gate BatchNorms appeared */
  batchNormForm: string;
  opset: number;
  producer: string;
}

/** Import an ONNX model from a path or its bytes. Throws FileError on anything that is not the network. */
export function importOnnx(pathOrBytes: string | Uint8Array, options: OnnxImportOptions = {}): FloatModel {
  return importOnnxWithInfo(pathOrBytes, options).model;
}

export function importOnnxWithInfo(pathOrBytes: string | Uint8Array, options: OnnxImportOptions = {}): { model: FloatModel; info: OnnxImportInfo } {
  const file = typeof pathOrBytes === 'string' ? pathOrBytes : (options.name ?? 'ONNX model');
  let bytes: Uint8Array;
  if (typeof pathOrBytes === 'string') {
    bytes = readInputFile(pathOrBytes);
  } else {
    bytes = pathOrBytes;
  }
  let proto: ModelProto;
  try {
    proto = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new FileError(file, `not an ONNX model (protobuf decoding failed: ${(e as Error).message})`);
  }
  const graph = proto.graph;
  if (!graph || !graph.node?.length) throw new FileError(file, 'not an ONNX model (no graph or no nodes)');
  const opset = num(proto.opsetImport?.find((o) => !o.domain || o.domain === 'ai.onnx')?.version);
  if (!opset) throw new FileError(file, 'the model imports no standard ONNX opset');
  const foreign = graph.node.find((n) => n.domain && n.domain !== 'ai.onnx');
  if (foreign) throw new FileError(file, `node '${foreign.name}' (${foreign.domain}.${foreign.opType}) is not a standard ONNX op (an optimised or quantized export?); import the plain float export`);

  const initializers = new Map<string, TensorProto>();
  for (const t of graph.initializer ?? []) if (t.name) initializers.set(t.name, t);
  const inputs = (graph.input ?? []).filter((i) => i.name && !initializers.has(i.name));
  if (inputs.length !== 1) {
    throw new FileError(file, `expected one image input, the model has ${inputs.length} (${inputs.map((i) => i.name).join(', ')})`);
  }
  const input = inputs[0];
  const dims = input.type?.tensorType?.shape?.dim ?? [];
  if (dims.length !== 4) throw new FileError(file, `input '${input.name}' has rank ${dims.length}; the network takes one 4-D image (NCHW or NHWC)`);
  const dim = (i: number) => (dims[i].dimValue !== undefined && dims[i].dimValue !== null && num(dims[i].dimValue) > 0 ? num(dims[i].dimValue) : undefined);

  const w = new OnnxWalk(file, graph, initializers);
  const layout = inputLayout(w, input.name!, dim(1), dim(3));
  const size = (axis: 'H' | 'W', given: number | undefined) => {
    const v = dim(layout.indexOf(axis)) ?? given;
    if (!v) throw new FileError(file, `input '${input.name}' has a symbolic ${axis === 'H' ? 'height' : 'width'}; give the input size explicitly (option height/width; aunet: --input-size HxW)`);
    return v;
  };
  const c = dim(layout.indexOf('C'));
  if (c === undefined) throw new FileError(file, `input '${input.name}' has a symbolic channel count`);
  const tracked = { tensor: 'input', h: size('H', options.height), w: size('W', options.width), c, layout };
  // the input's limits before the graph is walked and anything is sized from it (the filters are checked once matched)
  try {
    validateArch({ filters: 1, height: tracked.h, width: tracked.w, channels: c });
  } catch (e) {
    if (e instanceof ArchError) throw new FileError(file, `input '${input.name}' is outside the limits (docs/model-format.md, "Limits"): ${e.message}`, 'BAD_ARCH');
    throw e;
  }

  let matched;
  try {
    matched = new NetworkMatcher(w, opset).run(input.name!, tracked);
  } catch (e) {
    if (e instanceof ArchError) throw new FileError(file, `the graph implies an unsupported architecture: ${e.message}`, 'BAD_ARCH');
    throw e;
  }

  // The probability must be a graph output; other outputs may be any recognised tensor (e.g. the attention maps).
  let found = false;
  for (const o of graph.output ?? []) {
    const r = w.resolve(o.name ?? '');
    if (!r) return w.fail(`graph output '${o.name}' (from ${w.origin(o.name ?? '')}) is not a tensor of the network`);
    w.mark(r.path);
    if (r.t.tensor === matched.graph.output) found = true;
  }
  if (!found) w.fail(`no graph output is the network's final Sigmoid (probability); the outputs are ${(graph.output ?? []).map((o) => `'${o.name}'`).join(', ')}`);
  w.nodes.forEach((n, i) => {
    if (w.used[i]) return;
    const dead = (n.output ?? []).every((o) => !(w.readers.get(o)?.length) && !(graph.output ?? []).some((g) => g.name === o));
    if (n.opType === 'Constant' && dead) return;
    w.fail(`${w.describe(i)} is not part of the Attention U-Net topology (nothing of the recognised network computes through it)`);
  });

  const model: FloatModel = {
    arch: matched.graph.arch,
    preprocessing: DEFAULT_PREPROCESSING,
    convs: matched.convs,
    batchNorms: matched.batchNorms,
    source: {
      ...(typeof pathOrBytes === 'string' ? { file: pathOrBytes } : {}),
      format: 'onnx',
      sha256: createHash('sha256').update(bytes).digest('hex'),
    },
  };
  return {
    model,
    info: {
      inputLayout: layout === NHWC ? 'NHWC' : 'NCHW',
      inputName: input.name!,
      batchNormForm: matched.batchNormForm,
      opset,
      producer: `${proto.producerName ?? ''} ${proto.producerVersion ?? ''}`.trim(),
    },
  };
}

/**
 * NCHW or NHWC? From the declared shape when the channel count (1 or 3) sits
 * in one place only; otherwise from the first reader (a Transpose to NCHW
 * means NHWC).
 */
function inputLayout(w: OnnxWalk, name: string, d1: number | undefined, d3: number | undefined): Layout {
  const ch = (d: number | undefined) => d === 1 || d === 3;
  if (ch(d1) && !ch(d3)) return NCHW;
  if (ch(d3) && !ch(d1)) return NHWC;
  const first = (w.readers.get(name) ?? [])[0];
  const n = first && w.node(first.node);
  if (n?.opType === 'Transpose') {
    const perm = n.attribute?.find((a) => a.name === 'perm')?.ints?.map(num);
    if (perm?.join() === '0,3,1,2') return NHWC;
  }
  return NCHW;
}
