// Thin helpers over the generated ONNX protobuf classes (onnx-proto, ONNX 1.10
// schema): decoding tensors to numbers, reading attributes, and the int64
// fields that protobufjs hands back as Long objects.
import onnxProto from 'onnx-proto';

export const onnx = onnxProto.onnx;
export type ModelProto = onnxProto.onnx.ModelProto;
export type NodeProto = onnxProto.onnx.INodeProto;
export type TensorProto = onnxProto.onnx.ITensorProto;
export type AttributeProto = onnxProto.onnx.IAttributeProto;
export type GraphProto = onnxProto.onnx.IGraphProto;
/** the generated message classes (what decode returns, create builds) */
export type NodeMessage = onnxProto.onnx.NodeProto;
export type TensorMessage = onnxProto.onnx.TensorProto;
export type ValueInfoMessage = onnxProto.onnx.ValueInfoProto;
export type GraphMessage = onnxProto.onnx.GraphProto;

export const DataType = onnx.TensorProto.DataType;
export const AttrType = onnx.AttributeProto.AttributeType;

/** A constant tensor as plain numbers (float and integer types alike). */
export interface Const {
  dims: number[];
  data: Float32Array | Float64Array;
  /** ONNX TensorProto.DataType of the values (integer types hold integral numbers) */
  type: number;
}

type LongLike = number | { toNumber(): number } | null | undefined;

export function num(v: LongLike): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

export function isIntegerType(type: number): boolean {
  return type !== DataType.FLOAT && type !== DataType.DOUBLE && type !== DataType.FLOAT16 && type !== DataType.BFLOAT16;
}

export function elementCount(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** Decodes a TensorProto's values; throws Error(problem) for what it cannot read. */
export function tensorToConst(t: TensorProto): Const {
  const dims = (t.dims ?? []).map(num);
  const type = t.dataType ?? DataType.UNDEFINED;
  const n = elementCount(dims);
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    throw new Error(`tensor '${t.name}' keeps its data in an external file; re-export with the weights inside the model`);
  }
  const raw = t.rawData && t.rawData.length > 0 ? t.rawData : null;
  const view = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : null;
  const codec = CODECS[type];
  if (!codec) throw new Error(`tensor '${t.name}' has data type ${DataType[type] ?? type}, which the importer does not read`);
  const out = new codec.Out(n);
  if (view) {
    if (view.byteLength !== n * codec.bytes) throw new Error(`tensor '${t.name}' holds ${view.byteLength} bytes, its shape [${dims}] needs ${n * codec.bytes}`);
    for (let i = 0; i < n; i++) out[i] = codec.read(view, i * codec.bytes);
  } else {
    const list = codec.list(t) ?? [];
    if (list.length !== n) throw new Error(`tensor '${t.name}' holds ${list.length} values, its shape [${dims}] needs ${n}`);
    for (let i = 0; i < n; i++) out[i] = codec.fromList(list[i]);
  }
  return { dims, data: out, type };
}

/**
 * How each element type is read: from raw_data (little-endian, `bytes` each)
 * or from the typed value list the protobuf keeps it in. Integers are held as
 * float64 (exact up to 2^53), float16 widened to float32.
 */
interface Codec {
  bytes: number;
  Out: Float32ArrayConstructor | Float64ArrayConstructor;
  read(view: DataView, at: number): number;
  list(t: TensorProto): readonly LongLike[] | null | undefined;
  fromList(v: LongLike): number;
}

const int32s = (bytes: number, read: Codec['read']): Codec => ({ bytes, Out: Float64Array, read, list: (t) => t.int32Data, fromList: num });

const CODECS: Partial<Record<number, Codec>> = {
  [DataType.FLOAT]: { bytes: 4, Out: Float32Array, read: (v, o) => v.getFloat32(o, true), list: (t) => t.floatData, fromList: num },
  [DataType.DOUBLE]: { bytes: 8, Out: Float64Array, read: (v, o) => v.getFloat64(o, true), list: (t) => t.doubleData, fromList: num },
  [DataType.FLOAT16]: { bytes: 2, Out: Float32Array, read: (v, o) => halfToFloat(v.getUint16(o, true)), list: (t) => t.int32Data, fromList: (v) => halfToFloat(num(v)) },
  [DataType.INT64]: { bytes: 8, Out: Float64Array, read: (v, o) => Number(v.getBigInt64(o, true)), list: (t) => t.int64Data, fromList: num },
  // the smaller integer types keep their list values in int32_data
  [DataType.INT32]: int32s(4, (v, o) => v.getInt32(o, true)),
  [DataType.INT16]: int32s(2, (v, o) => v.getInt16(o, true)),
  [DataType.UINT16]: int32s(2, (v, o) => v.getUint16(o, true)),
  [DataType.INT8]: int32s(1, (v, o) => v.getInt8(o)),
  [DataType.UINT8]: int32s(1, (v, o) => v.getUint8(o)),
  [DataType.BOOL]: int32s(1, (v, o) => v.getUint8(o)),
};

/** IEEE 754 half to float (Node 20 has no Float16Array). */
function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

export function attr(node: NodeProto, name: string): AttributeProto | undefined {
  return node.attribute?.find((a) => a.name === name);
}

export function attrInt(node: NodeProto, name: string, dflt: number): number {
  const a = attr(node, name);
  return a ? num(a.i) : dflt;
}

export function attrInts(node: NodeProto, name: string): number[] | undefined {
  const a = attr(node, name);
  return a ? (a.ints ?? []).map(num) : undefined;
}

export function attrFloat(node: NodeProto, name: string, dflt: number): number {
  const a = attr(node, name);
  return a ? (a.f ?? 0) : dflt;
}

export function attrFloats(node: NodeProto, name: string): number[] | undefined {
  const a = attr(node, name);
  return a ? [...(a.floats ?? [])] : undefined;
}

export function attrString(node: NodeProto, name: string, dflt: string): string {
  const a = attr(node, name);
  return a?.s ? new TextDecoder().decode(a.s) : dflt;
}

/** How errors name a node: its name when it has one, else its type, index and first output. */
export function describeNode(node: NodeProto, index: number): string {
  const what = node.name ? `'${node.name}'` : `#${index} (output '${node.output?.[0] ?? '?'}')`;
  return `node ${what} (${node.opType})`;
}
