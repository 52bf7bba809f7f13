// Structural validation of a QModel against the graph its architecture builds:
// every tensor and op present with the right kind, every array exactly the
// size the graph implies, every number in the range the kernels assume.
// The .aunet loader runs it before returning a model (validate at load, never
// per frame) and the writer runs it so a bad model never reaches a file.
import { AunetError } from '../common/errors.js';
import { ArchError, buildGraph, type Graph, type Op } from './graph.js';
import { INPUT_PARAMS, SIGMOID_OUTPUT, type QModel, type QuantParams, type Requant } from './qmodel.js';

/** A model that does not fit its architecture; `where` names the op, tensor or field. */
export class ModelError extends AunetError {
  constructor(readonly where: string, problem: string) {
    super('BAD_MODEL', `${where}: ${problem}`);
    this.name = 'ModelError';
  }
}

/** Ops that carry no parameters (they reuse their input's quantization). */
export const PARAMLESS_KINDS: ReadonlySet<Op['kind']> = new Set(['maxpool', 'upsample']);

const Q31_MIN = 2 ** 30;
const Q31_MAX = 2 ** 31 - 1;

/** Throws ModelError naming the first problem; returns the graph on success. */
export function validateQModel(q: QModel): Graph {
  let graph: Graph;
  try {
    graph = buildGraph(q.arch);
  } catch (e) {
    if (e instanceof ArchError) throw new ModelError(`arch.${e.field}`, e.message);
    throw e;
  }
  checkPreprocessing(q);
  checkTensors(q, graph);
  checkOps(q, graph);
  return graph;
}

function checkPreprocessing(q: QModel): void {
  const p = q.preprocessing;
  if (!p || typeof p !== 'object') throw new ModelError('preprocessing', 'missing');
  if (p.resize !== 'stretch' && p.resize !== 'letterbox') throw new ModelError('preprocessing.resize', `must be "stretch" or "letterbox", got ${JSON.stringify(p.resize)}`);
  if (p.normalize !== 'unit') throw new ModelError('preprocessing.normalize', `must be "unit", got ${JSON.stringify(p.normalize)}`);
  if (p.clahe !== undefined) {
    const { clipLimit, tiles } = p.clahe;
    if (!(Number.isFinite(clipLimit) && clipLimit > 0)) throw new ModelError('preprocessing.clahe.clipLimit', `must be > 0, got ${clipLimit}`);
    if (!(Number.isInteger(tiles) && tiles >= 1)) throw new ModelError('preprocessing.clahe.tiles', `must be an integer >= 1, got ${tiles}`);
  }
}

function checkTensors(q: QModel, g: Graph): void {
  for (const name of Object.keys(q.tensors)) {
    if (!g.tensors.has(name)) throw new ModelError(`tensors.${name}`, 'not a tensor of this architecture');
  }
  for (const name of g.tensors.keys()) {
    const t = q.tensors[name];
    if (!t) throw new ModelError(`tensors.${name}`, 'quantization parameters missing');
    if (!(Number.isFinite(t.scale) && t.scale > 0)) throw new ModelError(`tensors.${name}.scale`, `must be finite and > 0, got ${t.scale}`);
    if (!(Number.isInteger(t.zeroPoint) && t.zeroPoint >= -128 && t.zeroPoint <= 127)) {
      throw new ModelError(`tensors.${name}.zeroPoint`, `must be an integer in [-128, 127], got ${t.zeroPoint}`);
    }
  }
  expectParams(q, 'input', INPUT_PARAMS, 'the fixed input quantization (scale 1/255, zero point -128)');
  for (const op of g.ops) {
    if (op.kind === 'sigmoid') expectParams(q, op.output, SIGMOID_OUTPUT, 'the fixed sigmoid output quantization (scale 1/256, zero point -128)');
    if (op.kind === 'maxpool' || op.kind === 'upsample') expectParams(q, op.output, q.tensors[op.input], `its input ${op.input}'s parameters`);
  }
}

function expectParams(q: QModel, name: string, want: QuantParams, what: string): void {
  const t = q.tensors[name];
  if (t.scale !== want.scale || t.zeroPoint !== want.zeroPoint) {
    throw new ModelError(`tensors.${name}`, `must have ${what}, got scale ${t.scale}, zero point ${t.zeroPoint}`);
  }
}

function checkOps(q: QModel, g: Graph): void {
  const byName = new Map(g.ops.map((op) => [op.name, op]));
  for (const name of Object.keys(q.ops)) {
    const op = byName.get(name);
    if (!op) throw new ModelError(`ops.${name}`, 'not an op of this architecture');
    if (PARAMLESS_KINDS.has(op.kind)) throw new ModelError(`ops.${name}`, `a ${op.kind} op has no parameters`);
  }
  for (const op of g.ops) {
    if (PARAMLESS_KINDS.has(op.kind)) continue;
    const p = q.ops[op.name];
    const at = `ops.${op.name}`;
    if (!p) throw new ModelError(at, `parameters missing (a ${op.kind} op)`);
    if (p.kind !== op.kind) throw new ModelError(`${at}.kind`, `must be "${op.kind}", got ${JSON.stringify(p.kind)}`);
    switch (op.kind) {
      case 'conv': {
        if (p.kind !== 'conv') break;
        const n = op.cout * op.k * op.k * op.cin;
        checkInt8Weights(`${at}.weights`, p.weights, n);
        checkPerChannel(at, p, op.cout);
        checkPads(at, p.pads, op, g);
        checkAct(at, p.actMin, p.actMax);
        break;
      }
      case 'affine': {
        if (p.kind !== 'affine') break;
        checkInt8Weights(`${at}.weights`, p.weights, op.channels);
        checkPerChannel(at, p, op.channels);
        checkAct(at, p.actMin, p.actMax);
        break;
      }
      case 'add': {
        if (p.kind !== 'add') break;
        if (!(Number.isInteger(p.leftShift) && p.leftShift >= 0 && p.leftShift <= 30)) {
          throw new ModelError(`${at}.leftShift`, `must be an integer in [0, 30], got ${p.leftShift}`);
        }
        checkRequant(`${at}.inputA`, p.inputA);
        checkRequant(`${at}.inputB`, p.inputB);
        checkRequant(`${at}.output`, p.output);
        checkAct(at, p.actMin, p.actMax);
        break;
      }
      case 'concat': {
        if (p.kind !== 'concat') break;
        checkRequant(`${at}.inputA`, p.inputA);
        checkRequant(`${at}.inputB`, p.inputB);
        break;
      }
      case 'sigmoid': {
        if (p.kind !== 'sigmoid') break;
        checkArray(`${at}.lut`, p.lut, 256, Int8Array);
        break;
      }
      case 'gatemul': {
        if (p.kind !== 'gatemul') break;
        checkRequant(`${at}.requant`, p.requant);
        checkAct(at, p.actMin, p.actMax);
        break;
      }
    }
  }
}

type ArrayCtor = Int8ArrayConstructor | Int32ArrayConstructor | Float32ArrayConstructor;

function checkArray(at: string, a: unknown, n: number, ctor: ArrayCtor): void {
  if (!(a instanceof ctor)) throw new ModelError(at, `must be an ${ctor.name}`);
  if (a.length !== n) throw new ModelError(at, `has ${a.length} values, the architecture needs ${n}`);
}

function checkInt8Weights(at: string, a: Int8Array, n: number): void {
  checkArray(at, a, n, Int8Array);
  // symmetric weights never use -128 (TFLite's int8 weight convention)
  const i = a.indexOf(-128);
  if (i >= 0) throw new ModelError(at, `value ${i} is -128; symmetric int8 weights lie in [-127, 127]`);
}

function checkPerChannel(
  at: string,
  p: { weightScales: Float32Array; bias: Int32Array; multiplier: Int32Array; shift: Int32Array },
  n: number,
): void {
  checkArray(`${at}.weightScales`, p.weightScales, n, Float32Array);
  checkArray(`${at}.bias`, p.bias, n, Int32Array);
  checkArray(`${at}.multiplier`, p.multiplier, n, Int32Array);
  checkArray(`${at}.shift`, p.shift, n, Int32Array);
  for (let c = 0; c < n; c++) {
    const s = p.weightScales[c];
    if (!(Number.isFinite(s) && s > 0)) throw new ModelError(`${at}.weightScales[${c}]`, `must be finite and > 0, got ${s}`);
    checkRequant(`${at}[channel ${c}]`, { multiplier: p.multiplier[c], shift: p.shift[c] });
  }
}

function checkRequant(at: string, r: Requant): void {
  if (!r || typeof r !== 'object') throw new ModelError(at, 'missing');
  const { multiplier: m, shift: s } = r;
  if (!(Number.isInteger(m) && (m === 0 || (m >= Q31_MIN && m <= Q31_MAX)))) {
    throw new ModelError(`${at}.multiplier`, `must be 0 or a Q31 value in [2^30, 2^31), got ${m}`);
  }
  if (!(Number.isInteger(s) && s >= -31 && s <= 30)) throw new ModelError(`${at}.shift`, `must be an integer in [-31, 30], got ${s}`);
}

function checkAct(at: string, lo: number, hi: number): void {
  const ok = (v: number) => Number.isInteger(v) && v >= -128 && v <= 127;
  if (!ok(lo) || !ok(hi) || lo > hi) throw new ModelError(`${at}.actMin/actMax`, `must be integers with -128 <= actMin <= actMax <= 127, got [${lo}, ${hi}]`);
}

function checkPads(at: string, pads: readonly number[], op: Extract<Op, { kind: 'conv' }>, g: Graph): void {
  if (!Array.isArray(pads) || pads.length !== 4 || !pads.every((v) => Number.isInteger(v) && v >= 0 && v < op.k)) {
    throw new ModelError(`${at}.pads`, `must be 4 integers in [0, ${op.k - 1}] (top, left, bottom, right), got ${JSON.stringify(pads)}`);
  }
  const i = g.tensors.get(op.input)!;
  const o = g.tensors.get(op.output)!;
  const [t, l, b, r] = pads;
  const oh = Math.floor((i.h + t + b - op.k) / op.stride) + 1;
  const ow = Math.floor((i.w + l + r - op.k) / op.stride) + 1;
  if (oh !== o.h || ow !== o.w) {
    throw new ModelError(`${at}.pads`, `${JSON.stringify(pads)} give a ${oh}x${ow} output, the graph needs ${o.h}x${o.w}`);
  }
}
