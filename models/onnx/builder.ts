// A small ONNX graph builder over the onnx-proto classes: nodes with typed
// attributes (onnxruntime requires AttributeProto.type), float32/int64
// initializers stored as raw little-endian data, typed graph inputs/outputs.
// Used by the exporter and by tests that build exporter-like graphs.
import { AttrType, DataType, onnx, type AttributeProto, type NodeMessage, type TensorMessage, type ValueInfoMessage } from './proto.js';

/** integer, string, integer list, { f } float, { floats } float list */
export type AttrValue = number | string | number[] | { f: number } | { floats: number[] };

/** ONNX IR version that goes with an opset (onnx/helper.py VERSION_TABLE). */
export function irVersionFor(opset: number): number {
  if (opset <= 8) return 3;
  if (opset <= 9) return 4;
  if (opset <= 10) return 5;
  if (opset <= 11) return 6;
  if (opset <= 14) return 7;
  if (opset <= 18) return 8;
  return 9;
}

export class GraphBuilder {
  readonly nodes: NodeMessage[] = [];
  readonly initializers: TensorMessage[] = [];
  readonly inputs: ValueInfoMessage[] = [];
  readonly outputs: ValueInfoMessage[] = [];
  private counter = 0;

  /** Add a node; returns its first output name. */
  node(opType: string, inputs: string[], outputs: string[] | string, attrs: Record<string, AttrValue> = {}, name?: string): string {
    const outs = Array.isArray(outputs) ? outputs : [outputs];
    this.nodes.push(
      onnx.NodeProto.create({
        opType,
        input: inputs,
        output: outs,
        name: name ?? `${opType}_${this.counter++}`,
        attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
      }),
    );
    return outs[0];
  }

  float(name: string, dims: number[], data: ArrayLike<number>): string {
    const f = Float32Array.from(data);
    this.initializers.push(onnx.TensorProto.create({ name, dims, dataType: DataType.FLOAT, rawData: new Uint8Array(f.buffer) }));
    return name;
  }

  int64(name: string, dims: number[], data: ArrayLike<number>): string {
    const b = BigInt64Array.from(Array.from(data, (x) => BigInt(x)));
    this.initializers.push(onnx.TensorProto.create({ name, dims, dataType: DataType.INT64, rawData: new Uint8Array(b.buffer) }));
    return name;
  }

  input(name: string, dims: (number | string)[]): string {
    this.inputs.push(valueInfo(name, dims));
    return name;
  }

  output(name: string, dims: (number | string)[]): void {
    this.outputs.push(valueInfo(name, dims));
  }

  encode(opset: number, graphName: string, producer = { name: 'aunet-edge', version: '0' }, docString = ''): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: irVersionFor(opset),
      opsetImport: [onnx.OperatorSetIdProto.create({ domain: '', version: opset })],
      producerName: producer.name,
      producerVersion: producer.version,
      docString,
      graph: onnx.GraphProto.create({
        name: graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      }),
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

function attribute(name: string, v: AttrValue): AttributeProto {
  if (typeof v === 'string') return { name, type: AttrType.STRING, s: new TextEncoder().encode(v) };
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error(`internal: attribute ${name}: give floats as { f }`);
    return { name, type: AttrType.INT, i: v };
  }
  if (Array.isArray(v)) return { name, type: AttrType.INTS, ints: v };
  if ('f' in v) return { name, type: AttrType.FLOAT, f: v.f };
  return { name, type: AttrType.FLOATS, floats: v.floats };
}

function valueInfo(name: string, dims: (number | string)[]): ValueInfoMessage {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType: DataType.FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  });
}
