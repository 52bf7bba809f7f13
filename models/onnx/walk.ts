// Graph plumbing for the ONNX importer: who produces and who reads each value,
// which nodes are already accounted for, and layout tracking through the ops
// that only move data around (Transpose, Identity, inference Dropout).
// Every tracked value knows which logical axis (N, C, H, W) each of its stored
// axes holds, so NCHW exports, NHWC inputs and tf2onnx's Transposes around
// every conv all reduce to the same network.
import { FileError } from '../../common/errors.js';
import { ConstantFolder } from './constants.js';
import { attrInts, describeNode, type GraphProto, type NodeProto, type TensorProto } from './proto.js';

export type Axis = 'N' | 'C' | 'H' | 'W';
export type Layout = readonly Axis[];
export const NCHW: Layout = ['N', 'C', 'H', 'W'];
export const NHWC: Layout = ['N', 'H', 'W', 'C'];

/** A value of the network whose meaning is known. */
export interface Tracked {
  /** graph tensor name (models/graph.ts) when the value is one, else null */
  tensor: string | null;
  h: number;
  w: number;
  c: number;
  layout: Layout;
}

/** A node reading a value, reached through zero or more data-moving nodes. */
export interface Reader {
  node: number;
  slot: number;
  /** the value name the node reads */
  value: string;
  /** layout of that value */
  layout: Layout;
  /** data-moving nodes passed on the way */
  path: number[];
}

export class OnnxWalk {
  readonly nodes: NodeProto[];
  readonly used: Uint8Array;
  readonly producer = new Map<string, number>();
  readonly readers = new Map<string, { node: number; slot: number }[]>();
  readonly tracked = new Map<string, Tracked>();
  readonly folder: ConstantFolder;

  constructor(
    readonly file: string,
    graph: GraphProto,
    initializers: Map<string, TensorProto>,
  ) {
    this.nodes = graph.node ?? [];
    this.used = new Uint8Array(this.nodes.length);
    this.nodes.forEach((n, i) => {
      for (const o of n.output ?? []) if (o) this.producer.set(o, i);
      (n.input ?? []).forEach((name, slot) => {
        if (!name) return;
        const list = this.readers.get(name) ?? [];
        list.push({ node: i, slot });
        this.readers.set(name, list);
      });
    });
    this.folder = new ConstantFolder(initializers, this.nodes, this.producer, (v) => this.storedShape(v));
  }

  fail(problem: string): never {
    throw new FileError(this.file, problem, 'ONNX_TOPOLOGY');
  }

  describe(index: number): string {
    return describeNode(this.nodes[index], index);
  }

  /** "node X (Op)" or "the model input 'x'" for a value's origin. */
  origin(value: string): string {
    const p = this.producer.get(value);
    return p === undefined ? `the model input '${value}'` : this.describe(p);
  }

  node(index: number): NodeProto {
    return this.nodes[index];
  }

  /** Layout after a data-moving node, or null when the node is not one. */
  private through(index: number, layout: Layout): Layout | null {
    const n = this.nodes[index];
    switch (n.opType) {
      case 'Identity':
        return layout;
      case 'Dropout': {
        // inference Dropout is identity; a training_mode input that is not a constant false is not
        const mode = n.input?.[2];
        if (mode) {
          const c = this.constant(mode);
          if (!c || c.value.data[0] !== 0) return null;
        }
        return layout;
      }
      case 'Transpose': {
        const perm = attrInts(n, 'perm') ?? [3, 2, 1, 0];
        if (perm.length !== 4) return null;
        return perm.map((p) => layout[p]);
      }
      default:
        return null;
    }
  }

  /** Unclaimed readers of a value, looking through data-moving nodes. */
  readersOf(value: string, layout: Layout, path: number[] = []): Reader[] {
    const out: Reader[] = [];
    for (const r of this.readers.get(value) ?? []) {
      const next = r.slot === 0 ? this.through(r.node, layout) : null;
      if (next) {
        out.push(...this.readersOf(this.nodes[r.node].output?.[0] ?? '', next, [...path, r.node]));
      } else if (!this.used[r.node]) {
        out.push({ node: r.node, slot: r.slot, value, layout, path });
      }
    }
    return out;
  }

  /** The tracked value behind a value name, looking back through data-moving nodes. */
  resolve(value: string): { t: Tracked; path: number[] } | null {
    const t = this.tracked.get(value);
    if (t) return { t, path: [] };
    const p = this.producer.get(value);
    if (p === undefined || this.nodes[p].output?.[0] !== value) return null;
    const back = this.resolve(this.nodes[p].input?.[0] ?? '');
    if (!back) return null;
    const layout = this.through(p, back.t.layout);
    if (!layout) return null;
    return { t: { ...back.t, layout }, path: [...back.path, p] };
  }

  storedShape(value: string): number[] | undefined {
    const r = this.resolve(value);
    if (!r) return undefined;
    const size = { N: 1, C: r.t.c, H: r.t.h, W: r.t.w };
    return r.t.layout.map((a) => size[a]);
  }

  mark(indices: Iterable<number>): void {
    for (const i of indices) this.used[i] = 1;
  }

  /**
   * Claim the one reader of `value` that `want` accepts. When there is none,
   * the error names the readers that are there instead (the nodes that did not
   * fit), or the producer whose output goes nowhere.
   */
  claim(value: string, layout: Layout, want: (n: NodeProto) => boolean, expected: string): Reader {
    const readers = this.readersOf(value, layout);
    const hit = readers.filter((r) => want(this.nodes[r.node]));
    if (hit.length === 0) {
      if (readers.length > 0) {
        const names = readers.map((r) => this.describe(r.node)).join(', ');
        this.fail(`${names} does not fit the Attention U-Net here: expected ${expected}, reading the output of ${this.origin(value)}`);
      }
      this.fail(`the output of ${this.origin(value)} goes nowhere: expected ${expected} to read it`);
    }
    if (hit.length > 1) {
      this.fail(`${hit.map((r) => this.describe(r.node)).join(' and ')} both read the output of ${this.origin(value)}; expected only one ${expected}`);
    }
    const r = hit[0];
    this.mark([r.node, ...r.path]);
    return r;
  }

  /** The constant behind a value, or null; a tensor that cannot be decoded is a FileError naming it. */
  constant(value: string) {
    try {
      return this.folder.get(value);
    } catch (e) {
      return this.fail(`constant '${value}' (from ${this.origin(value)}): ${(e as Error).message}`);
    }
  }

  /** Constant input `slot` of a node (marking the nodes that computed it), or undefined when absent. */
  constInput(index: number, slot: number, what: string) {
    const name = this.nodes[index].input?.[slot];
    if (!name) return undefined;
    let f;
    try {
      f = this.folder.get(name);
    } catch (e) {
      this.fail(`${this.describe(index)}: ${what}: ${(e as Error).message}`);
    }
    if (!f) this.fail(`${this.describe(index)}: its ${what} ('${name}') is not a constant the importer can compute (produced by ${this.origin(name)})`);
    this.mark(f.nodes);
    return f.value;
  }

  /** Track a node output as a network value. */
  track(value: string, t: Tracked): void {
    this.tracked.set(value, t);
  }

  /** The single output of a claimed node that the network uses; other outputs must be unread. */
  output(index: number): string {
    const n = this.nodes[index];
    const outs = n.output ?? [];
    if (!outs[0]) this.fail(`${this.describe(index)} has no output`);
    for (let i = 1; i < outs.length; i++) {
      if (outs[i] && (this.readers.get(outs[i])?.length ?? 0) > 0) {
        this.fail(`${this.describe(index)}: its output ${i} ('${outs[i]}') is read, but the network uses only its first output`);
      }
    }
    return outs[0];
  }
}
