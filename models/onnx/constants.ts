// Folds the small constant subgraphs exporters leave around the network:
// Resize scales/sizes built from Shape/Gather/Concat, PyTorch's F.pad amounts
// (ConstantOfShape/Slice/Transpose/Cast), Constant nodes. The network's own
// ops are matched elsewhere (match.ts); this only answers "is this value a
// constant, what is it, and which nodes computed it".
// Hand-written rather than running onnxruntime on a subgraph: the importer must
// work on a file onnxruntime may refuse, and name the node it cannot follow.
import {
  attr, attrInt, attrInts, Const, DataType, elementCount, isIntegerType, NodeProto, TensorProto, tensorToConst,
} from './proto.js';

export interface Folded {
  value: Const;
  /** indices of the nodes that computed it (empty for initializers) */
  nodes: Set<number>;
}

export class ConstantFolder {
  private readonly cache = new Map<string, Folded | null>();

  constructor(
    private readonly initializers: Map<string, TensorProto>,
    private readonly nodes: readonly NodeProto[],
    private readonly producer: Map<string, number>,
    /** stored shape of a non-constant value, when the matcher already knows it (for Shape) */
    private readonly shapeOf: (value: string) => number[] | undefined,
  ) {}

  /** The constant behind a value, or null when it is not (or not foldable). */
  get(value: string): Folded | null {
    if (!value) return null;
    const hit = this.cache.get(value);
    if (hit !== undefined) return hit;
    const r = this.compute(value);
    // Shape results depend on what the matcher knows so far: never cache a miss.
    if (r) this.cache.set(value, r);
    return r;
  }

  private compute(value: string): Folded | null {
    const init = this.initializers.get(value);
    if (init) return { value: tensorToConst(init), nodes: new Set() };
    const idx = this.producer.get(value);
    if (idx === undefined) return null;
    const node = this.nodes[idx];
    const op = node.opType ?? '';
    const deps = new Set<number>([idx]);
    const inputs: (Const | null)[] = [];
    if (op === 'Shape') {
      const s = this.shapeOf(node.input?.[0] ?? '');
      if (!s) return null;
      const start = attrInt(node, 'start', 0);
      const end = attr(node, 'end') ? attrInt(node, 'end', s.length) : s.length;
      const sl = s.slice(norm(start, s.length), norm(end, s.length));
      return { value: { dims: [sl.length], data: Float64Array.from(sl), type: DataType.INT64 }, nodes: deps };
    }
    if (!FOLDABLE.has(op)) return null;
    for (const name of node.input ?? []) {
      if (!name) {
        inputs.push(null);
        continue;
      }
      const f = this.get(name);
      if (!f) return null;
      for (const d of f.nodes) deps.add(d);
      inputs.push(f.value);
    }
    // Only output 0 of any foldable op is meaningful.
    if ((node.output?.[0] ?? '') !== value) return null;
    const v = evaluate(node, inputs);
    return v ? { value: v, nodes: deps } : null;
  }
}

const FOLDABLE = new Set([
  'Constant', 'Identity', 'Cast', 'Gather', 'Unsqueeze', 'Squeeze', 'Reshape', 'Concat', 'Slice', 'Transpose',
  'ConstantOfShape', 'Add', 'Sub', 'Mul', 'Div', 'Floor', 'Ceil', 'Neg', 'Sqrt', 'Reciprocal', 'Flatten',
]);

function norm(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

function strides(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length);
  let acc = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= dims[i];
  }
  return s;
}

function ints(c: Const | null): number[] {
  return c ? Array.from(c.data) : [];
}

function evaluate(node: NodeProto, inp: (Const | null)[]): Const | null {
  const op = node.opType;
  const a = inp[0];
  switch (op) {
    case 'Constant': {
      const t = attr(node, 'value');
      if (t?.t) return tensorToConst(t.t);
      const f = attr(node, 'value_float');
      if (f) return { dims: [], data: Float32Array.of(f.f ?? 0), type: DataType.FLOAT };
      const fs = attr(node, 'value_floats');
      if (fs) return { dims: [fs.floats?.length ?? 0], data: Float32Array.from(fs.floats ?? []), type: DataType.FLOAT };
      const i = attr(node, 'value_int');
      if (i) return { dims: [], data: Float64Array.of(attrInt(node, 'value_int', 0)), type: DataType.INT64 };
      const is = attrInts(node, 'value_ints');
      if (is) return { dims: [is.length], data: Float64Array.from(is), type: DataType.INT64 };
      return null;
    }
    case 'Identity':
      return a;
    case 'Cast': {
      if (!a) return null;
      const to = attrInt(node, 'to', DataType.FLOAT);
      const data = isIntegerType(to) ? Float64Array.from(a.data, Math.trunc) : to === DataType.DOUBLE ? Float64Array.from(a.data) : Float32Array.from(a.data);
      return { dims: a.dims, data, type: to };
    }
    case 'ConstantOfShape': {
      const dims = ints(a);
      const t = attr(node, 'value')?.t;
      const fill = t ? tensorToConst(t) : { data: Float32Array.of(0), type: DataType.FLOAT };
      const data = new Float64Array(elementCount(dims)).fill(fill.data[0] ?? 0);
      return { dims, data, type: fill.type };
    }
    case 'Unsqueeze': {
      if (!a) return null;
      const axes = attrInts(node, 'axes') ?? ints(inp[1]);
      const rank = a.dims.length + axes.length;
      const set = new Set(axes.map((x) => norm(x, rank)));
      const dims: number[] = [];
      let k = 0;
      for (let i = 0; i < rank; i++) dims.push(set.has(i) ? 1 : a.dims[k++]);
      return { ...a, dims };
    }
    case 'Squeeze': {
      if (!a) return null;
      const axes = attrInts(node, 'axes') ?? (inp[1] ? ints(inp[1]) : null);
      const set = axes ? new Set(axes.map((x) => norm(x, a.dims.length))) : null;
      return { ...a, dims: a.dims.filter((d, i) => (set ? !set.has(i) : d !== 1)) };
    }
    case 'Flatten': {
      if (!a) return null;
      const ax = norm(attrInt(node, 'axis', 1), a.dims.length);
      return { ...a, dims: [elementCount(a.dims.slice(0, ax)), elementCount(a.dims.slice(ax))] };
    }
    case 'Reshape': {
      if (!a) return null;
      const shape = ints(inp[1]);
      const dims = shape.map((d, i) => (d === 0 ? a.dims[i] : d));
      const known = dims.filter((d) => d !== -1).reduce((x, y) => x * y, 1);
      const total = elementCount(a.dims);
      const full = dims.map((d) => (d === -1 ? total / known : d));
      if (elementCount(full) !== total) return null;
      return { ...a, dims: full };
    }
    case 'Concat': {
      const parts = inp.filter((x): x is Const => x !== null);
      if (parts.length === 0) return null;
      const rank = parts[0].dims.length;
      const axis = norm(attrInt(node, 'axis', 0), rank);
      const outer = elementCount(parts[0].dims.slice(0, axis));
      const dims = [...parts[0].dims];
      dims[axis] = parts.reduce((s, p) => s + p.dims[axis], 0);
      const data = new Float64Array(elementCount(dims));
      let o = 0;
      for (let i = 0; i < outer; i++) {
        for (const p of parts) {
          const chunk = elementCount(p.dims.slice(axis));
          data.set(p.data.subarray(i * chunk, (i + 1) * chunk), o);
          o += chunk;
        }
      }
      return { dims, data, type: parts[0].type };
    }
    case 'Gather': {
      if (!a || !inp[1]) return null;
      const axis = norm(attrInt(node, 'axis', 0), a.dims.length);
      const idx = ints(inp[1]).map((i) => norm(i, a.dims[axis]));
      const outer = elementCount(a.dims.slice(0, axis));
      const inner = elementCount(a.dims.slice(axis + 1));
      const data = new Float64Array(outer * idx.length * inner);
      let o = 0;
      for (let i = 0; i < outer; i++) {
        for (const j of idx) {
          const base = (i * a.dims[axis] + j) * inner;
          for (let k = 0; k < inner; k++) data[o++] = a.data[base + k];
        }
      }
      const dims = [...a.dims.slice(0, axis), ...inp[1].dims, ...a.dims.slice(axis + 1)];
      return { dims, data, type: a.type };
    }
    case 'Transpose': {
      if (!a) return null;
      const rank = a.dims.length;
      const perm = attrInts(node, 'perm') ?? [...Array(rank).keys()].reverse();
      const dims = perm.map((p) => a.dims[p]);
      const sIn = strides(a.dims);
      return { dims, data: gather(a.data, dims, (d, q) => q * sIn[perm[d]]), type: a.type };
    }
    case 'Slice': {
      if (!a) return null;
      const rank = a.dims.length;
      const starts = attrInts(node, 'starts') ?? ints(inp[1]);
      const ends = attrInts(node, 'ends') ?? ints(inp[2]);
      const axes = attrInts(node, 'axes') ?? (inp[3] ? ints(inp[3]) : [...starts.keys()]);
      const steps = inp[4] ? ints(inp[4]) : starts.map(() => 1);
      const lo = a.dims.map(() => 0);
      const step = a.dims.map(() => 1);
      const count = [...a.dims];
      axes.forEach((ax0, i) => {
        const ax = norm(ax0, rank);
        const n = a.dims[ax];
        const st = steps[i];
        let s = starts[i] < 0 ? starts[i] + n : starts[i];
        let e = ends[i] < 0 ? ends[i] + n : ends[i];
        if (st > 0) {
          s = Math.min(Math.max(s, 0), n);
          e = Math.min(Math.max(e, 0), n);
          count[ax] = Math.max(0, Math.ceil((e - s) / st));
        } else {
          s = Math.min(Math.max(s, -1), n - 1);
          e = Math.min(Math.max(e, -1), n - 1);
          count[ax] = Math.max(0, Math.ceil((e - s) / st));
        }
        lo[ax] = s;
        step[ax] = st;
      });
      const sIn = strides(a.dims);
      return { dims: count, data: gather(a.data, count, (d, q) => (lo[d] + q * step[d]) * sIn[d]), type: a.type };
    }
    case 'Floor': case 'Ceil': case 'Neg': case 'Sqrt': case 'Reciprocal': {
      if (!a) return null;
      const f = { Floor: Math.floor, Ceil: Math.ceil, Neg: (x: number) => -x, Sqrt: Math.sqrt, Reciprocal: (x: number) => 1 / x }[op];
      return { dims: a.dims, data: Float64Array.from(a.data, f), type: a.type };
    }
    case 'Add': case 'Sub': case 'Mul': case 'Div': {
      const b = inp[1];
      if (!a || !b) return null;
      const intDiv = op === 'Div' && isIntegerType(a.type);
      const f = {
        Add: (x: number, y: number) => x + y,
        Sub: (x: number, y: number) => x - y,
        Mul: (x: number, y: number) => x * y,
        Div: intDiv ? (x: number, y: number) => Math.trunc(x / y) : (x: number, y: number) => x / y,
      }[op];
      return broadcast(a, b, f);
    }
    default:
      return null;
  }
}

/** Numpy-style broadcasting of a binary op. */
export function broadcast(a: Const, b: Const, f: (x: number, y: number) => number): Const | null {
  const rank = Math.max(a.dims.length, b.dims.length);
  const da = [...Array(rank - a.dims.length).fill(1), ...a.dims];
  const db = [...Array(rank - b.dims.length).fill(1), ...b.dims];
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) {
    if (da[i] !== db[i] && da[i] !== 1 && db[i] !== 1) return null;
    dims.push(Math.max(da[i], db[i]));
  }
  const sa = strides(da).map((s, i) => (da[i] === 1 ? 0 : s));
  const sb = strides(db).map((s, i) => (db[i] === 1 ? 0 : s));
  const so = strides(dims);
  const data = new Float64Array(elementCount(dims));
  for (let o = 0; o < data.length; o++) {
    let rem = o;
    let ia = 0;
    let ib = 0;
    for (let d = 0; d < rank; d++) {
      const q = Math.floor(rem / so[d]);
      rem -= q * so[d];
      ia += q * sa[d];
      ib += q * sb[d];
    }
    data[o] = f(a.data[ia], b.data[ib]);
  }
  return { dims, data, type: a.type };
}


/** out[index] = src[sum over axes d of at(d, index_d)] for every index of an `outDims` tensor (Transpose, Slice). */
function gather(src: ArrayLike<number>, outDims: number[], at: (axis: number, index: number) => number): Float64Array {
  const sOut = strides(outDims);
  const out = new Float64Array(elementCount(outDims));
  for (let o = 0; o < out.length; o++) {
    let rem = o;
    let offset = 0;
    for (let d = 0; d < outDims.length; d++) {
      const q = Math.floor(rem / sOut[d]);
      rem -= q * sOut[d];
      offset += at(d, q);
    }
    out[o] = src[offset];
  }
  return out;
}
