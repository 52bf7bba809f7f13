// Float32 forward pass of the graph of models/graph.ts over a FloatModel: the
// ground truth the quantizer calibrates against and `aunet compare` measures
// the int8 engine against. Plain loops over Float32Array (OHWI weights, NHWC
// tensors); written to be obviously correct first, reasonably fast second.
import { buildGraph, opInputs, type ConvOp, type Graph, type Pads } from './graph.js';
import type { FloatModel } from './float-model.js';

export interface FloatRunOptions {
  /** keep only the tensors for which this returns true (others are freed once consumed); default: keep all */
  keep?: (name: string) => boolean;
  /** called with each tensor as soon as it is computed (e.g. to collect calibration statistics) */
  onTensor?: (name: string, data: Float32Array) => void;
}

export class FloatReference {
  readonly graph: Graph;
  /** per conv: the padding it runs with (its own, or the graph default) */
  private readonly pads = new Map<string, Pads>();
  /** per affine op: folded BatchNorm a[c], b[c] */
  private readonly affine = new Map<string, { a: Float32Array; b: Float32Array }>();

  constructor(readonly model: FloatModel) {
    this.graph = buildGraph(model.arch);
    for (const op of this.graph.ops) {
      if (op.kind === 'conv') {
        const c = model.convs[op.name];
        if (!c) throw new Error(`float model: conv ${op.name} missing`);
        if (c.weights.length !== op.cout * op.k * op.k * op.cin || c.bias.length !== op.cout) {
          throw new Error(`float model: conv ${op.name} has ${c.weights.length} weights and ${c.bias.length} biases, the graph needs ${op.cout * op.k * op.k * op.cin} and ${op.cout}`);
        }
        this.pads.set(op.name, c.pads ?? op.pads);
      } else if (op.kind === 'affine') {
        this.affine.set(op.name, foldBatchNorm(model, op.name, op.channels));
      }
    }
  }

  /**
   * Run one frame: `pixels` is the preprocessed model input (H*W*C bytes, NHWC);
   * the network sees pixel / 255. Returns tensors by graph name.
   */
  run(pixels: Uint8Array, options: FloatRunOptions = {}): Map<string, Float32Array> {
    const { arch } = this.graph;
    const n = arch.height * arch.width * arch.channels;
    if (pixels.length !== n) throw new RangeError(`float reference: input has ${pixels.length} bytes, the model needs ${arch.height}x${arch.width}x${arch.channels} = ${n}`);
    const keep = options.keep ?? (() => true);
    const lastUse = lastUses(this.graph);
    const t = new Map<string, Float32Array>();
    const input = new Float32Array(n);
    for (let i = 0; i < n; i++) input[i] = pixels[i] / 255;
    t.set('input', input);
    options.onTensor?.('input', input);
    const get = (name: string) => t.get(name)!;
    this.graph.ops.forEach((op, idx) => {
      const o = this.graph.tensors.get(op.output)!;
      let out: Float32Array;
      switch (op.kind) {
        case 'conv': {
          const i = this.graph.tensors.get(op.input)!;
          const c = this.model.convs[op.name];
          out = conv(get(op.input), i.h, i.w, op, c.weights, c.bias, this.pads.get(op.name)!, o.h, o.w);
          break;
        }
        case 'maxpool': {
          const i = this.graph.tensors.get(op.input)!;
          out = maxpool(get(op.input), i.h, i.w, i.c);
          break;
        }
        case 'upsample': {
          const i = this.graph.tensors.get(op.input)!;
          out = upsample(get(op.input), i.h, i.w, i.c);
          break;
        }
        case 'concat': {
          const a = this.graph.tensors.get(op.inputs[0])!;
          const b = this.graph.tensors.get(op.inputs[1])!;
          out = concat(get(op.inputs[0]), a.c, get(op.inputs[1]), b.c, o.h * o.w);
          break;
        }
        case 'add': {
          const a = get(op.inputs[0]);
          const b = get(op.inputs[1]);
          out = new Float32Array(a.length);
          for (let k = 0; k < a.length; k++) out[k] = a[k] + b[k];
          break;
        }
        case 'sigmoid': {
          const x = get(op.input);
          out = new Float32Array(x.length);
          for (let k = 0; k < x.length; k++) out[k] = 1 / (1 + Math.exp(-x[k]));
          break;
        }
        case 'gatemul': {
          out = gateMul(get(op.attention), get(op.skip), o.h, o.w, o.c);
          break;
        }
        case 'affine': {
          const { a, b } = this.affine.get(op.name)!;
          const x = get(op.input);
          out = new Float32Array(x.length);
          const c = op.channels;
          for (let k = 0; k < x.length; k++) out[k] = a[k % c] * x[k] + b[k % c];
          break;
        }
      }
      t.set(op.output, out);
      options.onTensor?.(op.output, out);
      // free inputs whose last reader was this op, unless the caller keeps them
      for (const name of opInputs(op)) if (lastUse.get(name) === idx && !keep(name)) t.delete(name);
    });
    for (const name of [...t.keys()]) if (!keep(name)) t.delete(name);
    return t;
  }
}

/** Convenience: one frame, every tensor. */
export function runFloat(model: FloatModel, pixels: Uint8Array, options?: FloatRunOptions): Map<string, Float32Array> {
  return new FloatReference(model).run(pixels, options);
}

/** Inference BatchNorm as y = a*x + b per channel. */
export function foldBatchNorm(model: FloatModel, name: string, channels: number): { a: Float32Array; b: Float32Array } {
  const bn = model.batchNorms[name];
  if (!bn) throw new Error(`float model: BatchNorm ${name} missing`);
  for (const f of ['gamma', 'beta', 'mean', 'variance'] as const) {
    if (bn[f].length !== channels) throw new Error(`float model: BatchNorm ${name}.${f} has ${bn[f].length} values, the graph needs ${channels}`);
  }
  const a = new Float32Array(channels);
  const b = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    const s = bn.gamma[c] / Math.sqrt(bn.variance[c] + bn.epsilon);
    a[c] = s;
    b[c] = bn.beta[c] - s * bn.mean[c];
  }
  return { a, b };
}


function lastUses(g: Graph): Map<string, number> {
  const m = new Map<string, number>();
  g.ops.forEach((op, i) => {
    for (const name of opInputs(op)) m.set(name, i);
  });
  return m;
}

function conv(
  x: Float32Array, inH: number, inW: number, op: ConvOp, w: Float32Array, bias: Float32Array,
  pads: Pads, outH: number, outW: number,
): Float32Array {
  const { k, stride, cin, cout, relu } = op;
  const [padTop, padLeft] = pads;
  const out = new Float32Array(outH * outW * cout);
  const acc = new Float64Array(cout);
  const kStride = k * k * cin; // one output channel's weights
  for (let oy = 0; oy < outH; oy++) {
    for (let ox = 0; ox < outW; ox++) {
      acc.set(bias);
      for (let ky = 0; ky < k; ky++) {
        const iy = oy * stride + ky - padTop;
        if (iy < 0 || iy >= inH) continue; // zero padding
        for (let kx = 0; kx < k; kx++) {
          const ix = ox * stride + kx - padLeft;
          if (ix < 0 || ix >= inW) continue;
          const xBase = (iy * inW + ix) * cin;
          // four output channels per pass share each input load (about 2x faster in V8)
          let o = 0;
          for (; o + 4 <= cout; o += 4) {
            const w0 = ((o * k + ky) * k + kx) * cin;
            const w1 = w0 + kStride;
            const w2 = w1 + kStride;
            const w3 = w2 + kStride;
            let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            for (let i = 0; i < cin; i++) {
              const v = x[xBase + i];
              s0 += v * w[w0 + i];
              s1 += v * w[w1 + i];
              s2 += v * w[w2 + i];
              s3 += v * w[w3 + i];
            }
            acc[o] += s0;
            acc[o + 1] += s1;
            acc[o + 2] += s2;
            acc[o + 3] += s3;
          }
          for (; o < cout; o++) {
            const wBase = ((o * k + ky) * k + kx) * cin;
            let s = 0;
            for (let i = 0; i < cin; i++) s += x[xBase + i] * w[wBase + i];
            acc[o] += s;
          }
        }
      }
      const base = (oy * outW + ox) * cout;
      for (let o = 0; o < cout; o++) out[base + o] = relu && acc[o] < 0 ? 0 : acc[o];
    }
  }
  return out;
}

function maxpool(x: Float32Array, h: number, w: number, c: number): Float32Array {
  const oh = h >> 1;
  const ow = w >> 1;
  const out = new Float32Array(oh * ow * c);
  for (let y = 0; y < oh; y++) {
    for (let xx = 0; xx < ow; xx++) {
      for (let ch = 0; ch < c; ch++) {
        const a = x[((2 * y) * w + 2 * xx) * c + ch];
        const b = x[((2 * y) * w + 2 * xx + 1) * c + ch];
        const d = x[((2 * y + 1) * w + 2 * xx) * c + ch];
        const e = x[((2 * y + 1) * w + 2 * xx + 1) * c + ch];
        out[(y * ow + xx) * c + ch] = Math.max(a, b, d, e);
      }
    }
  }
  return out;
}

function upsample(x: Float32Array, h: number, w: number, c: number): Float32Array {
  const out = new Float32Array(4 * h * w * c);
  const ow = 2 * w;
  for (let y = 0; y < 2 * h; y++) {
    for (let xx = 0; xx < ow; xx++) {
      const src = ((y >> 1) * w + (xx >> 1)) * c;
      out.set(x.subarray(src, src + c), (y * ow + xx) * c);
    }
  }
  return out;
}

function concat(a: Float32Array, ca: number, b: Float32Array, cb: number, pixels: number): Float32Array {
  const c = ca + cb;
  const out = new Float32Array(pixels * c);
  for (let p = 0; p < pixels; p++) {
    out.set(a.subarray(p * ca, (p + 1) * ca), p * c);
    out.set(b.subarray(p * cb, (p + 1) * cb), p * c + ca);
  }
  return out;
}

function gateMul(att: Float32Array, skip: Float32Array, h: number, w: number, c: number): Float32Array {
  const out = new Float32Array(h * w * c);
  const aw = Math.ceil(w / 2);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const a = att[(y >> 1) * aw + (x >> 1)];
      const base = (y * w + x) * c;
      for (let ch = 0; ch < c; ch++) out[base + ch] = a * skip[base + ch];
    }
  }
  return out;
}
