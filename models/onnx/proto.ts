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
  const need = (bytes: number) => {
    if (view && view.byteLength !== n * bytes) {
      throw new Error(`tensor '${t.name}' holds ${view.byteLength} bytes, its shape [${dims}] needs ${n * bytes}`);
    }
  };
  const fromList = <T>(list: T[] | null | undefined, conv: (v: T) => number, out: Float32Array | Float64Array) => {
    const l = list ?? [];
    if (l.length !== n) throw new Error(`tensor '${t.name}' holds ${l.length} values, its shape [${dims}] needs ${n}`);
    for (let i = 0; i < n; i++) out[i] = conv(l[i]);
    return out;
  };
  switch (type) {
    case DataType.FLOAT: {
      const out = new Float32Array(n);
      if (view) {
        need(4);
        for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
        return { dims, data: out, type };
      }
      return { dims, data: fromList(t.floatData, (v) => v, out), type };
    }
    case DataType.DOUBLE: {
      const out = new Float64Array(n);
      if (view) {
        need(8);
        for (let i = 0; i < n; i++) out[i] = view.getFloat64(i * 8, true);
        return { dims, data: out, type };
      }
      return { dims, data: fromList(t.doubleData, (v) => v, out), type };
    }
    case DataType.FLOAT16: {
      const out = new Float32Array(n);
      if (view) {
        need(2);
        for (let i = 0; i < n; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
        return { dims, data: out, type };
      }
      return { dims, data: fromList(t.int32Data, halfToFloat, out), type };
    }
    case DataType.INT64: {
      const out = new Float64Array(n);
      if (view) {
        need(8);
        for (let i = 0; i < n; i++) out[i] = Number(view.getBigInt64(i * 8, true));
        return { dims, data: out, type };
      }
      return { dims, data: fromList(t.int64Data, num, out), type };
    }
    case DataType.INT32:
    case DataType.INT16:
    case DataType.INT8:
    case DataType.UINT8:
    case DataType.UINT16:
    case DataType.BOOL: {
      const out = new Float64Array(n);
      if (view) {
        const size = type === DataType.INT32 ? 4 : type === DataType.INT16 || type === DataType.UINT16 ? 2 : 1;
        need(size);
        for (let i = 0; i < n; i++) {
          const o = i * size;
          out[i] =
            type === DataType.INT32 ? view.getInt32(o, true)
            : type === DataType.INT16 ? view.getInt16(o, true)
            : type === DataType.UINT16 ? view.getUint16(o, true)
            : type === DataType.INT8 ? view.getInt8(o)
            : view.getUint8(o);
        }
        return { dims, data: out, type };
      }
      return { dims, data: fromList(t.int32Data, (v) => v, out), type };
    }
    default:
      throw new Error(`tensor '${t.name}' has data type ${DataType[type] ?? type}, which the importer does not read`);
  }
}

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
