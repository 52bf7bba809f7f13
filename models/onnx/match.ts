// Recognises the Attention U-Net in an ONNX graph by its structure: walks the
// ops of models/graph.ts in order and, for each, claims the ONNX node(s) that
// compute it from values already recognised (never by node names). What does
// not fit is refused with a message naming the node and the expectation.
import { buildGraph, type AddOp, type Arch, type ConcatOp, type ConvOp, type GateMulOp, type Graph, type MaxPoolOp, type Op, type Pads, type SigmoidOp, type UpsampleOp, type AffineOp } from '../graph.js';
import type { FloatBatchNorm, FloatConv } from '../float-model.js';
import { attr, attrFloat, attrFloats, attrInt, attrInts, attrString, Const, NodeProto } from './proto.js';
import { nearestX2Problem } from './resize.js';
import { NCHW, OnnxWalk, type Layout, type Reader, type Tracked } from './walk.js';
import { convertConvLayout } from '../conv-layout.js';

export interface Matched {
  graph: Graph;
  convs: Record<string, FloatConv>;
  batchNorms: Record<string, FloatBatchNorm>;
  /** how the gate BatchNorms appeared: 'BatchNormalization', 'Mul/Add', 'none', ... */
  batchNormForm: string;
}

const same = (a: Layout, b: Layout) => a.every((x, i) => x === b[i]);

export class NetworkMatcher {
  private graph!: Graph;
  /** graph tensor name -> ONNX value name */
  private readonly env = new Map<string, string>();
  private readonly convs: Record<string, FloatConv> = {};
  private readonly batchNorms: Record<string, FloatBatchNorm> = {};
  private readonly bnForms = new Set<string>();

  constructor(private readonly w: OnnxWalk, private readonly opset: number) {}

  /** Match the whole network starting from the model input (its layout and shape already known). */
  run(inputValue: string, input: Tracked): Matched {
    const first = this.peekFirstConv(inputValue, input.layout);
    const arch: Arch = { filters: first, height: input.h, width: input.w, channels: input.c };
    this.graph = buildGraph(arch);
    this.w.track(inputValue, { ...input, tensor: 'input' });
    this.env.set('input', inputValue);
    for (const op of this.graph.ops) this.op(op);
    return { graph: this.graph, convs: this.convs, batchNorms: this.batchNorms, batchNormForm: [...this.bnForms].join(' + ') };
  }

  /** ONNX value holding a graph tensor. */
  value(tensor: string): string {
    const v = this.env.get(tensor);
    if (!v) throw new Error(`internal: tensor ${tensor} not matched yet`);
    return v;
  }

  private peekFirstConv(value: string, layout: Layout): number {
    for (const r of this.w.readersOf(value, layout)) {
      let n = this.w.node(r.node);
      if (n.opType === 'Pad') {
        const next = this.w.readersOf(n.output?.[0] ?? '', r.layout)[0];
        if (!next) continue;
        n = this.w.node(next.node);
      }
      if (n.opType !== 'Conv') continue;
      const wt = this.w.constant(n.input?.[1] ?? '');
      if (wt && wt.value.dims.length === 4) return wt.value.dims[0];
    }
    const readers = this.w.readersOf(value, layout).map((r) => this.w.describe(r.node));
    return this.w.fail(`expected the model input to feed a 3x3 Conv (Encoder1's first conv), found ${readers.length ? readers.join(', ') : 'nothing reading it'}`);
  }

  private op(op: Op): void {
    switch (op.kind) {
      case 'conv': return this.conv(op);
      case 'maxpool': return this.maxpool(op);
      case 'add': return this.add(op);
      case 'sigmoid': return this.sigmoid(op);
      case 'gatemul': return this.gatemul(op);
      case 'affine': return this.affine(op);
      case 'upsample': return this.upsample(op);
      case 'concat': return this.concat(op);
    }
  }

  private shapeOf(tensor: string) {
    return this.graph.tensors.get(tensor)!;
  }

  private trackTensor(value: string, tensor: string, layout: Layout) {
    const s = this.shapeOf(tensor);
    this.w.track(value, { tensor, h: s.h, w: s.w, c: s.c, layout });
    this.env.set(tensor, value);
  }

  private requireLayout(r: Reader, want: Layout, what: string) {
    if (!same(r.layout, want)) {
      this.w.fail(`${this.w.describe(r.node)} reads its input with axes ${r.layout.join('')}, but ${what} needs ${want.join('')} (a Transpose is missing or wrong)`);
    }
  }

  private conv(op: ConvOp): void {
    const src = this.value(op.input);
    const inT = this.w.tracked.get(src)!;
    const what = `${op.k}x${op.k} Conv${op.stride === 2 ? ' (stride 2)' : ''} '${op.name}' of ${op.block}`;
    let r = this.w.claim(src, inT.layout, (n) => n.opType === 'Conv' || n.opType === 'Pad', what);
    let extra: Pads = [0, 0, 0, 0];
    if (this.w.node(r.node).opType === 'Pad') {
      extra = this.padAmounts(r);
      const padded = this.w.output(r.node);
      r = this.w.claim(padded, r.layout, (n) => n.opType === 'Conv', `${what} after ${this.w.describe(r.node)}`);
    }
    this.requireLayout(r, NCHW, 'Conv');
    const idx = r.node;
    const node = this.w.node(idx);
    const d = this.w.describe(idx);
    const wt = this.w.constInput(idx, 1, 'weight');
    if (!wt) this.w.fail(`${d} has no weight input`);
    const want = [op.cout, op.cin, op.k, op.k];
    if (wt.dims.join() !== want.join()) {
      this.w.fail(`${d} has weights [${wt.dims}], but ${what} needs [${want}] (output channels, input channels, kernel)`);
    }
    const group = attrInt(node, 'group', 1);
    if (group !== 1) this.w.fail(`${d} is a grouped conv (group ${group}); ${what} is a plain conv`);
    const dil = attrInts(node, 'dilations') ?? [1, 1];
    if (dil.some((x) => x !== 1)) this.w.fail(`${d} has dilations [${dil}]; ${what} has none`);
    const strides = attrInts(node, 'strides') ?? [1, 1];
    if (strides.some((s) => s !== op.stride)) this.w.fail(`${d} has strides [${strides}], but ${what} has stride ${op.stride}`);
    const ks = attrInts(node, 'kernel_shape');
    if (ks && ks.join() !== [op.k, op.k].join()) this.w.fail(`${d} has kernel_shape [${ks}], but ${what} is ${op.k}x${op.k}`);
    const padded = { h: inT.h + extra[0] + extra[2], w: inT.w + extra[1] + extra[3] };
    const own = this.convPads(node, d, op, padded);
    const pads: Pads = [own[0] + extra[0], own[1] + extra[1], own[2] + extra[2], own[3] + extra[3]];
    const out = this.shapeOf(op.output);
    const oh = Math.floor((inT.h + pads[0] + pads[2] - op.k) / op.stride) + 1;
    const ow = Math.floor((inT.w + pads[1] + pads[3] - op.k) / op.stride) + 1;
    if (oh !== out.h || ow !== out.w) {
      this.w.fail(`${d} with pads [${pads}] gives ${oh}x${ow} from ${inT.h}x${inT.w}, but ${what} must give ${out.h}x${out.w} ('same' padding)`);
    }
    if (pads.some((p) => p > op.k >> 1)) this.w.fail(`${d} pads [${pads}]: more than ${op.k >> 1} pixel(s) on a side is not 'same' padding`);
    const bias = this.w.constInput(idx, 2, 'bias');
    if (bias && bias.dims.join() !== String(op.cout)) this.w.fail(`${d} has bias shape [${bias.dims}], ${what} needs [${op.cout}]`);
    const b = bias ? Float32Array.from(bias.data) : new Float32Array(op.cout);

    let outValue = this.w.output(idx);
    let layout = r.layout;
    // an unfused bias (TF's BiasAdd left as Add of a per-channel constant) belongs to the conv
    for (;;) {
      const adds = this.w.readersOf(outValue, layout).filter((x) => this.w.node(x.node).opType === 'Add' && this.perChannelOperand(x, op.cout));
      if (adds.length !== 1) break;
      const add = adds[0];
      const k = this.perChannelOperand(add, op.cout)!;
      this.w.mark([add.node, ...add.path, ...k.nodes]);
      for (let i = 0; i < op.cout; i++) b[i] += k.values[i];
      outValue = this.w.output(add.node);
      layout = add.layout;
    }
    this.convs[op.name] = { weights: convertConvLayout(wt.data, op, 'OIHW', 'OHWI'), bias: b, pads };
    if (op.relu) {
      const rr = this.w.claim(outValue, layout, (n) => n.opType === 'Relu' || n.opType === 'Clip', `Relu after ${what}`);
      if (this.w.node(rr.node).opType === 'Clip') this.clipIsRelu(rr.node);
      outValue = this.w.output(rr.node);
      layout = rr.layout;
    }
    this.trackTensor(outValue, op.output, layout);
  }

  /** Clip(min 0, no max) is a ReLU (some exporters write it so); Clip with a max (ReLU6) is not the network's. */
  private clipIsRelu(index: number): void {
    const n = this.w.node(index);
    const lo = this.opset < 11 ? attrFloat(n, 'min', -Infinity) : (this.w.constInput(index, 1, 'min')?.data[0] ?? -Infinity);
    const hi = this.opset < 11 ? attrFloat(n, 'max', Infinity) : (this.w.constInput(index, 2, 'max')?.data[0] ?? Infinity);
    if (lo !== 0 || hi !== Infinity) this.w.fail(`${this.w.describe(index)} clips to [${lo}, ${hi}]; the network's activation is ReLU (clip to [0, inf))`);
  }

  /** A Conv's own padding: explicit pads or auto_pad (SAME_UPPER puts the odd pixel at the end). */
  private convPads(node: NodeProto, d: string, op: ConvOp, input: { h: number; w: number }): Pads {
    const auto = attrString(node, 'auto_pad', 'NOTSET');
    if (auto === 'NOTSET') {
      const p = attrInts(node, 'pads') ?? [0, 0, 0, 0];
      if (p.length !== 4) this.w.fail(`${d} has pads [${p}]; a 2-D conv has four`);
      return [p[0], p[1], p[2], p[3]];
    }
    if (auto === 'VALID') return [0, 0, 0, 0];
    if (auto !== 'SAME_UPPER' && auto !== 'SAME_LOWER') this.w.fail(`${d} has auto_pad '${auto}'`);
    const total = (len: number) => Math.max(0, (Math.ceil(len / op.stride) - 1) * op.stride + op.k - len);
    const th = total(input.h);
    const tw = total(input.w);
    return auto === 'SAME_UPPER'
      ? [th >> 1, tw >> 1, th - (th >> 1), tw - (tw >> 1)]
      : [th - (th >> 1), tw - (tw >> 1), th >> 1, tw >> 1];
  }

  /** A constant zero Pad in front of a conv (PyTorch's F.pad emulating 'same'): [top, left, bottom, right]. */
  private padAmounts(r: Reader): Pads {
    const d = this.w.describe(r.node);
    const node = this.w.node(r.node);
    const mode = attrString(node, 'mode', 'constant');
    if (mode !== 'constant') this.w.fail(`${d} pads in mode '${mode}'; only zero padding fits a conv's padding`);
    const p = this.opset < 11 ? attrInts(node, 'pads') : this.w.constInput(r.node, 1, 'pads') ? Array.from(this.w.constInput(r.node, 1, 'pads')!.data) : undefined;
    if (!p || p.length !== 8) this.w.fail(`${d}: pads must be 8 constants for a 4-D tensor`);
    if ((node.input?.[3] ?? '') !== '') this.w.fail(`${d}: Pad with an axes input is not supported`);
    const value = this.opset < 11 ? attrFloat(node, 'value', 0) : this.w.constInput(r.node, 2, 'constant value')?.data[0] ?? 0;
    if (value !== 0) this.w.fail(`${d} pads with ${value}; a conv's padding is zero`);
    const at = (axis: string) => r.layout.indexOf(axis as never);
    for (const ax of ['N', 'C']) {
      if (p[at(ax)] !== 0 || p[at(ax) + 4] !== 0) this.w.fail(`${d} pads the ${ax} axis; only height and width may be padded`);
    }
    return [p[at('H')], p[at('W')], p[at('H') + 4], p[at('W') + 4]];
  }

  private maxpool(op: MaxPoolOp): void {
    const src = this.value(op.input);
    const what = `2x2 MaxPool (stride 2) '${op.name}' of ${op.block}`;
    const r = this.w.claim(src, this.w.tracked.get(src)!.layout, (n) => n.opType === 'MaxPool', what);
    this.requireLayout(r, NCHW, 'MaxPool');
    const n = this.w.node(r.node);
    const d = this.w.describe(r.node);
    const ks = attrInts(n, 'kernel_shape') ?? [];
    const st = attrInts(n, 'strides') ?? [1, 1];
    const pads = attrInts(n, 'pads') ?? [0, 0, 0, 0];
    const dil = attrInts(n, 'dilations') ?? [1, 1];
    const auto = attrString(n, 'auto_pad', 'NOTSET');
    if (ks.join() !== '2,2' || st.join() !== '2,2') this.w.fail(`${d} has kernel [${ks}] strides [${st}]; ${what} is kernel [2,2] strides [2,2]`);
    if (pads.some((x) => x !== 0) || dil.some((x) => x !== 1) || !['NOTSET', 'VALID'].includes(auto)) {
      this.w.fail(`${d} pads or dilates (pads [${pads}], dilations [${dil}], auto_pad ${auto}); ${what} does neither`);
    }
    this.trackTensor(this.w.output(r.node), op.output, r.layout);
  }

  /** The other input of a claimed binary node, which must be the given tensor in the same layout. */
  private otherInput(r: Reader, tensor: string, what: string): void {
    const n = this.w.node(r.node);
    const other = n.input?.[1 - r.slot] ?? '';
    const res = this.w.resolve(other);
    if (!res || res.t.tensor !== tensor) {
      const is = res?.t.tensor ? `tensor '${res.t.tensor}'` : `the output of ${this.w.origin(other)}`;
      this.w.fail(`${this.w.describe(r.node)} combines with ${is}, but ${what} combines with '${tensor}'`);
    }
    if (!same(res.t.layout, r.layout)) {
      this.w.fail(`${this.w.describe(r.node)} combines inputs in different layouts (${r.layout.join('')} and ${res.t.layout.join('')})`);
    }
    this.w.mark(res.path);
  }

  private add(op: AddOp): void {
    const [a, b] = op.inputs;
    const src = this.value(a);
    const what = `the Add '${op.name}' of ${op.block}`;
    const r = this.w.claim(src, this.w.tracked.get(src)!.layout, (n) => n.opType === 'Add' || n.opType === 'Sum', what);
    if ((this.w.node(r.node).input?.length ?? 0) !== 2) this.w.fail(`${this.w.describe(r.node)} adds ${this.w.node(r.node).input?.length} inputs; ${what} adds two`);
    this.otherInput(r, b, what);
    this.trackTensor(this.w.output(r.node), op.output, r.layout);
  }

  private sigmoid(op: SigmoidOp): void {
    const src = this.value(op.input);
    const what = `Sigmoid '${op.name}' of ${op.block}`;
    const r = this.w.claim(src, this.w.tracked.get(src)!.layout, (n) => n.opType === 'Sigmoid', what);
    this.trackTensor(this.w.output(r.node), op.output, r.layout);
  }

  /** Claim a Resize/Upsample of a tracked value and check it is nearest x2. Returns the upsampled value. */
  private claimUpsample(src: string, what: string): { value: string; layout: Layout } {
    const t = this.w.tracked.get(src)!;
    const r = this.w.claim(src, t.layout, (n) => n.opType === 'Resize' || n.opType === 'Upsample', what);
    const n = this.w.node(r.node);
    const d = this.w.describe(r.node);
    const stored = r.layout.map((a) => ({ N: 1, C: t.c, H: t.h, W: t.w })[a]);
    let scales: number[] | undefined;
    let semantics = { mode: attrString(n, 'mode', 'nearest'), coordinateTransformation: 'asymmetric', nearestMode: 'floor' };
    if (n.opType === 'Upsample') {
      scales = attrFloats(n, 'scales') ?? (this.w.constInput(r.node, 1, 'scales') ? Array.from(this.w.constInput(r.node, 1, 'scales')!.data) : undefined);
    } else {
      if (this.opset >= 11) {
        semantics = {
          mode: semantics.mode,
          coordinateTransformation: attrString(n, 'coordinate_transformation_mode', 'half_pixel'),
          nearestMode: attrString(n, 'nearest_mode', 'round_prefer_floor'),
        };
        this.w.constInput(r.node, 1, 'roi');
      }
      if (attrInt(n, 'antialias', 0) !== 0 && semantics.mode !== 'nearest') this.w.fail(`${d} antialiases`);
      if (attr(n, 'axes')) this.w.fail(`${d} resizes only some axes (axes attribute); re-export with opset 13`);
      const sc = this.w.constInput(r.node, this.opset >= 11 ? 2 : 1, 'scales');
      const sz = this.opset >= 11 ? this.w.constInput(r.node, 3, 'sizes') : undefined;
      if (sc && sc.data.length > 0) scales = Array.from(sc.data);
      else if (sz && sz.data.length === 4) scales = Array.from(sz.data, (v, i) => v / stored[i]);
    }
    if (!scales || scales.length !== 4) this.w.fail(`${d}: its scales/sizes are not four constants`);
    const wantScale = r.layout.map((a) => (a === 'H' || a === 'W' ? 2 : 1));
    if (scales.some((s, i) => s !== wantScale[i])) {
      this.w.fail(`${d} scales axes ${r.layout.join('')} by [${scales}], but ${what} scales by [${wantScale}] (x2 on height and width)`);
    }
    for (const len of new Set([t.h, t.w])) {
      const problem = nearestX2Problem(semantics, len);
      if (problem) this.w.fail(`${d} is not ${what}: ${problem}`);
    }
    return { value: this.w.output(r.node), layout: r.layout };
  }

  private gatemul(op: GateMulOp): void {
    const a = this.value(op.attention);
    const what = `nearest x2 upsampling of attention map '${op.attention}' (${op.block})`;
    const up = this.claimUpsample(a, what);
    const mul = `the Mul '${op.name}' of the upsampled attention map with skip '${op.skip}' (${op.block})`;
    const r = this.w.claim(up.value, up.layout, (n) => n.opType === 'Mul', mul);
    this.otherInput(r, op.skip, mul);
    this.trackTensor(this.w.output(r.node), op.output, r.layout);
  }

  /**
   * The gate's BatchNorm, in whichever form the exporter left it: a
   * BatchNormalization node, Mul/Add/Sub/Div with per-channel constants
   * (tf2onnx, optimisers), a mix, or nothing (a gate built with bn=False:
   * identity). Kept as raw statistics when it is one BatchNormalization node.
   */
  private affine(op: AffineOp): void {
    let value = this.value(op.input);
    let layout = this.w.tracked.get(value)!.layout;
    const c = op.channels;
    const a = new Float64Array(c).fill(1);
    const b = new Float64Array(c);
    const forms: string[] = [];
    let raw: FloatBatchNorm | null = null;
    for (;;) {
      const readers = this.w.readersOf(value, layout).filter((r) => this.affineStep(r, c, true));
      if (readers.length === 0) break;
      if (readers.length > 1) this.w.fail(`${readers.map((r) => this.w.describe(r.node)).join(' and ')} both read '${op.input}'; expected one BatchNorm ('${op.name}')`);
      const r = readers[0];
      this.w.mark([r.node, ...r.path]);
      const step = this.affineStep(r, c, false)!;
      forms.push(step.form);
      if (step.bn) raw = step.bn;
      for (let i = 0; i < c; i++) {
        a[i] = step.a[i] * a[i];
        b[i] = step.a[i] * b[i] + step.b[i];
      }
      value = this.w.output(r.node);
      layout = r.layout;
    }
    if (forms.length === 1 && raw) {
      this.batchNorms[op.name] = raw;
      this.bnForms.add('BatchNormalization');
    } else {
      // y = a x + b written as BatchNorm statistics: gamma a, beta b, mean 0, variance 1, epsilon 0
      this.batchNorms[op.name] = {
        gamma: Float32Array.from(a), beta: Float32Array.from(b), mean: new Float32Array(c), variance: new Float32Array(c).fill(1), epsilon: 0,
      };
      this.bnForms.add(forms.length ? forms.join('+') : 'none (identity)');
    }
    this.trackTensor(value, op.output, layout);
  }

  /** One per-channel affine node: y = a x + b. With probe, returns null instead of failing. */
  private affineStep(r: Reader, c: number, probe: boolean): { a: Float64Array; b: Float64Array; form: string; bn?: FloatBatchNorm } | null {
    const n = this.w.node(r.node);
    const op = n.opType ?? '';
    if (op === 'BatchNormalization') {
      if (probe) return { a: new Float64Array(), b: new Float64Array(), form: op };
      if (r.layout[1] !== 'C') this.w.fail(`${this.w.describe(r.node)} normalises axis 1, which holds ${r.layout[1]} here, not channels`);
      const get = (slot: number, what: string) => {
        const v = this.w.constInput(r.node, slot, what);
        if (!v || v.data.length !== c) this.w.fail(`${this.w.describe(r.node)}: ${what} must be ${c} constants`);
        return Float32Array.from(v.data);
      };
      const bn: FloatBatchNorm = {
        gamma: get(1, 'scale'), beta: get(2, 'bias'), mean: get(3, 'mean'), variance: get(4, 'variance'),
        epsilon: shortestFloat32(attrFloat(n, 'epsilon', 1e-5)),
      };
      const a = new Float64Array(c);
      const b = new Float64Array(c);
      for (let i = 0; i < c; i++) {
        a[i] = bn.gamma[i] / Math.sqrt(bn.variance[i] + bn.epsilon);
        b[i] = bn.beta[i] - a[i] * bn.mean[i];
      }
      return { a, b, form: op, bn };
    }
    if (!['Mul', 'Add', 'Sub', 'Div'].includes(op)) return null;
    const k = this.perChannelOperand(r, c);
    if (!k || (op === 'Div' && r.slot !== 0)) return null;
    if (probe) return { a: new Float64Array(), b: new Float64Array(), form: op };
    this.w.mark(k.nodes);
    const vec = k.values;
    const a = new Float64Array(c).fill(1);
    const b = new Float64Array(c);
    for (let i = 0; i < c; i++) {
      if (op === 'Mul') a[i] = vec[i];
      else if (op === 'Div') a[i] = 1 / vec[i];
      else if (op === 'Add') b[i] = vec[i];
      else if (r.slot === 0) b[i] = -vec[i];
      else {
        a[i] = -1;
        b[i] = vec[i];
      }
    }
    return { a, b, form: op };
  }

  /** The other operand of a binary node when it is a constant that varies only along channels. */
  private perChannelOperand(r: Reader, c: number): { values: Float64Array; nodes: Set<number> } | null {
    const n = this.w.node(r.node);
    if ((n.input?.length ?? 0) !== 2) return null;
    const k = this.w.constant(n.input![1 - r.slot]);
    const values = k ? perChannel(k.value, r.layout, c) : null;
    return values ? { values, nodes: k!.nodes } : null;
  }

  private upsample(op: UpsampleOp): void {
    const up = this.claimUpsample(this.value(op.input), `nearest x2 upsampling '${op.name}' of '${op.input}' (${op.block})`);
    this.trackTensor(up.value, op.output, up.layout);
  }

  private concat(op: ConcatOp): void {
    const [first, second] = op.inputs;
    const src = this.value(first);
    const what = `the channel Concat '${op.name}' [${first}, ${second}] of ${op.block}`;
    const r = this.w.claim(src, this.w.tracked.get(src)!.layout, (n) => n.opType === 'Concat', what);
    const n = this.w.node(r.node);
    const d = this.w.describe(r.node);
    const ins = (n.input ?? []).map((v) => this.w.resolve(v));
    const names = ins.map((x) => x?.t.tensor ?? '?');
    if (names.length !== 2 || names[0] !== first || names[1] !== second) {
      this.w.fail(`${d} concatenates [${names.join(', ')}], but ${op.block} concatenates [${first}, ${second}] (upsampled coarse path first, gated skip second; the order fixes the next conv's channels)`);
    }
    const axis = attrInt(n, 'axis', 1);
    const ax = axis < 0 ? axis + 4 : axis;
    if (r.layout[ax] !== 'C') this.w.fail(`${d} concatenates along axis ${axis}, which holds ${r.layout[ax]} here; ${what} joins channels`);
    const other = ins[1 - r.slot]!;
    if (!same(other.t.layout, r.layout)) this.w.fail(`${d} joins inputs in different layouts`);
    this.w.mark(other.path);
    this.trackTensor(this.w.output(r.node), op.output, r.layout);
  }
}

/** Per-channel values of a constant broadcast against a tensor of the given layout, or null when it varies along another axis. */
function perChannel(k: Const, layout: Layout, c: number): Float64Array | null {
  if (k.dims.length > 4) return null;
  const dims = [...Array(4 - k.dims.length).fill(1), ...k.dims];
  const ci = layout.indexOf('C');
  for (let i = 0; i < 4; i++) if (i !== ci && dims[i] !== 1) return null;
  if (dims[ci] !== 1 && dims[ci] !== c) return null;
  return Float64Array.from({ length: c }, (_, i) => k.data[dims[ci] === 1 ? 0 : i]);
}

/**
 * ONNX stores float attributes as float32: 1e-3 comes back as 0.0010000000474974513.
 * Take the shortest decimal that rounds to the same float32 (what the exporter was given).
 */
function shortestFloat32(x: number): number {
  for (let p = 1; p <= 9; p++) {
    const d = Number(x.toPrecision(p));
    if (Math.fround(d) === Math.fround(x)) return d;
  }
  return x;
}
