// The study's Attention U-Net as a flat list of ops over named NHWC tensors.
// Every other part of the project (executor, float reference, quantizer,
// importers, chip model) walks this list, so the topology is written once.
// See ../shared/docs/network.md for the source topology.
import { AunetError } from '../common/errors.js';

export interface Arch {
  /** base filter count F (the study: 32) */
  filters: number;
  height: number;
  width: number;
  /** 1 (grey) or 3 (grey replicated, as the study did) */
  channels: number;
}

export interface TensorShape {
  name: string;
  h: number;
  w: number;
  c: number;
}

/** Padding added to each side, in input pixels. */
export type Pads = readonly [top: number, left: number, bottom: number, right: number];

/** Which compute unit of the chip (docs/chip-model.md) runs the op. */
export type Unit = 'encoder' | 'attention' | 'decoder';

/** Study layer an op belongs to (Keras names), e.g. 'Encoder1', 'Attention3', 'conv2d'. */
export type Block = string;

interface OpBase {
  /** unique, stable op name, e.g. 'enc1.conv1', 'ag2.psi'; also the parameter key in models */
  name: string;
  block: Block;
  unit: Unit;
  output: string;
}

export interface ConvOp extends OpBase {
  kind: 'conv';
  input: string;
  k: 1 | 3;
  stride: 1 | 2;
  cin: number;
  cout: number;
  relu: boolean;
  /** default pads (Keras 'same'); a model may override them per conv (PyTorch padding=1) */
  pads: Pads;
}
export interface MaxPoolOp extends OpBase { kind: 'maxpool'; input: string }
export interface UpsampleOp extends OpBase { kind: 'upsample'; input: string }
/** channel concat [a, b]; both inputs are requantized to the output's scale */
export interface ConcatOp extends OpBase { kind: 'concat'; inputs: [string, string] }
/** element-wise add of two quantized tensors of one shape */
export interface AddOp extends OpBase { kind: 'add'; inputs: [string, string] }
/** sigmoid through a 256-entry lookup table; output scale 1/256, zero point -128 */
export interface SigmoidOp extends OpBase { kind: 'sigmoid'; input: string }
/** out[y][x][c] = attention[y>>1][x>>1] * skip[y][x][c]: nearest upsample x2 fused with the broadcast multiply */
export interface GateMulOp extends OpBase { kind: 'gatemul'; attention: string; skip: string }
/** per-channel affine y = a[c] * x + b[c] (the attention gate's folded BatchNorm) */
export interface AffineOp extends OpBase { kind: 'affine'; input: string; channels: number }

export type Op = ConvOp | MaxPoolOp | UpsampleOp | ConcatOp | AddOp | SigmoidOp | GateMulOp | AffineOp;

export interface Graph {
  arch: Arch;
  ops: Op[];
  tensors: Map<string, TensorShape>;
  /** the four attention maps a1..a4 (sigmoid outputs, before upsampling) */
  attention: [string, string, string, string];
  /** skip tensors c1..c4 (encoder outputs before pooling) */
  skips: [string, string, string, string];
  /** sigmoid output of the final 1x1 conv: the per-pixel probability */
  output: string;
}

/** An architecture the network cannot have; `field` names the offending Arch field. */
export class ArchError extends AunetError {
  constructor(message: string, readonly field: keyof Arch) {
    super('BAD_ARCH', message);
    this.name = 'ArchError';
  }
}

/**
 * What a model may be (docs/model-format.md, "Limits"): checked before anything
 * is allocated for it, by the .aunet reader, the importers and both engines, so
 * that an absurd header is refused in milliseconds, never by an allocation that
 * fails minutes later. The bounds keep the largest activation arena (input side
 * 1024, 64 filters: about 200 MiB) within what the box's WebAssembly heap can hold.
 */
export const ARCH_LIMITS = {
  /** input height and width: a multiple of 16 (four 2x2 poolings) up to this */
  maxSide: 1024,
  channels: [1, 3] as readonly number[],
  /** base filter count F (the encoder's deepest layer has 16 F) */
  maxFilters: 64,
} as const;

export function validateArch(arch: Arch): void {
  const { filters, height, width, channels } = arch;
  const L = ARCH_LIMITS;
  if (!Number.isInteger(filters) || filters < 1 || filters > L.maxFilters) {
    throw new ArchError(`filters (F) must be an integer from 1 to ${L.maxFilters}, got ${filters}`, 'filters');
  }
  for (const [field, v] of [['height', height], ['width', width]] as const) {
    if (!Number.isInteger(v) || v < 16 || v % 16 !== 0 || v > L.maxSide) {
      throw new ArchError(`input ${field} must be a multiple of 16 (four 2x2 poolings) from 16 to ${L.maxSide}, got ${v}`, field);
    }
  }
  if (!L.channels.includes(channels)) throw new ArchError(`input channels must be ${L.channels.join(' or ')}, got ${channels}`, 'channels');
}

const SAME3: Pads = [1, 1, 1, 1];
/** Keras 'same' at stride 2 on an even input pads only bottom and right. */
const SAME3_STRIDE2: Pads = [0, 0, 1, 1];
const NONE: Pads = [0, 0, 0, 0];

export function buildGraph(arch: Arch): Graph {
  validateArch(arch);
  const F = arch.filters;
  const ops: Op[] = [];
  const tensors = new Map<string, TensorShape>();
  const shape = (name: string) => {
    const t = tensors.get(name);
    if (!t) throw new Error(`internal: unknown tensor ${name}`);
    return t;
  };
  const def = (name: string, h: number, w: number, c: number) => {
    tensors.set(name, { name, h, w, c });
    return name;
  };
  def('input', arch.height, arch.width, arch.channels);

  const conv = (name: string, block: Block, unit: Unit, input: string, cout: number, k: 1 | 3, stride: 1 | 2, relu: boolean, output = name) => {
    const i = shape(input);
    const pads = k === 1 ? NONE : stride === 2 ? SAME3_STRIDE2 : SAME3;
    ops.push({ kind: 'conv', name, block, unit, input, output, k, stride, cin: i.c, cout, relu, pads });
    return def(output, Math.ceil(i.h / stride), Math.ceil(i.w / stride), cout);
  };
  const encoder = (idx: number, input: string, f: number, pool: boolean, unit: Unit, block: Block, skipName: string) => {
    const a = conv(`${prefix(block)}.conv1`, block, unit, input, f, 3, 1, true);
    const c = conv(`${prefix(block)}.conv2`, block, unit, a, f, 3, 1, true, skipName);
    if (!pool) return c;
    const s = shape(c);
    const p = def(`p${idx}`, s.h >> 1, s.w >> 1, s.c);
    ops.push({ kind: 'maxpool', name: `${prefix(block)}.pool`, block, unit, input: c, output: p });
    return p;
  };

  const p1 = encoder(1, 'input', F, true, 'encoder', 'Encoder1', 'c1');
  const p2 = encoder(2, p1, 2 * F, true, 'encoder', 'Encoder2', 'c2');
  const p3 = encoder(3, p2, 4 * F, true, 'encoder', 'Encoder3', 'c3');
  const p4 = encoder(4, p3, 8 * F, true, 'encoder', 'Encoder4', 'c4');
  let x = encoder(5, p4, 16 * F, false, 'encoder', 'Encoding', 'encoding');

  const skips = ['c4', 'c3', 'c2', 'c1'];
  const att: string[] = [];
  for (let g = 1; g <= 4; g++) {
    const f = (8 * F) >> (g - 1);
    const skip = skips[g - 1];
    const ag = `Attention${g}`;
    const p = `ag${g}`;
    const xs = conv(`${p}.x`, ag, 'attention', x, f, 3, 1, true);
    const ss = conv(`${p}.s`, ag, 'attention', skip, f, 3, 2, true);
    const xt = shape(xs);
    const t = def(`${p}.t`, xt.h, xt.w, f);
    ops.push({ kind: 'add', name: `${p}.add`, block: ag, unit: 'attention', inputs: [xs, ss], output: t });
    const logit = conv(`${p}.psi`, ag, 'attention', t, 1, 1, 1, false);
    const a = def(`a${g}`, xt.h, xt.w, 1);
    ops.push({ kind: 'sigmoid', name: `${p}.sigmoid`, block: ag, unit: 'attention', input: logit, output: a });
    att.push(a);
    const sk = shape(skip);
    const gm = def(`${p}.gated`, sk.h, sk.w, sk.c);
    ops.push({ kind: 'gatemul', name: `${p}.mul`, block: ag, unit: 'attention', attention: a, skip, output: gm });
    const bn = def(`${p}.out`, sk.h, sk.w, sk.c);
    ops.push({ kind: 'affine', name: `${p}.bn`, block: ag, unit: 'attention', input: gm, output: bn, channels: sk.c });

    const dec = `Decoder${g}`;
    const d = `dec${g}`;
    const xsh = shape(x);
    const up = def(`${d}.up`, xsh.h * 2, xsh.w * 2, xsh.c);
    ops.push({ kind: 'upsample', name: `${d}.upsample`, block: dec, unit: 'decoder', input: x, output: up });
    const cat = def(`${d}.cat`, sk.h, sk.w, xsh.c + sk.c);
    ops.push({ kind: 'concat', name: `${d}.concat`, block: dec, unit: 'decoder', inputs: [up, bn], output: cat });
    const d1 = conv(`${d}.conv1`, dec, 'decoder', cat, f, 3, 1, true);
    x = conv(`${d}.conv2`, dec, 'decoder', d1, f, 3, 1, true, `d${g}`);
  }
  const logit = conv('out.conv', 'conv2d', 'decoder', x, 1, 1, 1, false, 'out.logit');
  const prob = def('prob', arch.height, arch.width, 1);
  ops.push({ kind: 'sigmoid', name: 'out.sigmoid', block: 'conv2d', unit: 'decoder', input: logit, output: prob });

  return {
    arch,
    ops,
    tensors,
    attention: att as Graph['attention'],
    skips: ['c1', 'c2', 'c3', 'c4'],
    output: prob,
  };
}

function prefix(block: Block): string {
  const m = /^Encoder(\d)$/.exec(block);
  if (m) return `enc${m[1]}`;
  if (block === 'Encoding') return 'enc5';
  throw new Error(`internal: no prefix for ${block}`);
}

/** The tensors an op reads, in operand order. */
export function opInputs(op: Op): string[] {
  switch (op.kind) {
    case 'concat':
    case 'add':
      return [...op.inputs];
    case 'gatemul':
      return [op.attention, op.skip];
    default:
      return [op.input];
  }
}

/** Multiply-accumulates of one op (element-wise ops count 0). */
export function opMacs(op: Op, tensors: Map<string, TensorShape>): number {
  if (op.kind !== 'conv') return 0;
  const o = tensors.get(op.output)!;
  return o.h * o.w * op.cout * op.cin * op.k * op.k;
}

export function graphMacs(g: Graph): number {
  return g.ops.reduce((s, op) => s + opMacs(op, g.tensors), 0);
}

export function convOps(g: Graph): ConvOp[] {
  return g.ops.filter((o): o is ConvOp => o.kind === 'conv');
}
