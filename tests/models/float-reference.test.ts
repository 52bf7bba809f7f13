import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildGraph, type ConvOp, type Pads } from '../../models/graph.js';
import { FloatReference, runFloat } from '../../models/float-reference.js';
import { randomFloatModel } from '../../models/random-model.js';
import { noiseFrames } from './fixtures.js';

const arch = { filters: 2, height: 32, width: 32, channels: 3 };

/** Obviously-correct conv: six nested loops, zero padding. */
function naiveConv(x: Float32Array, ih: number, iw: number, op: ConvOp, w: Float32Array, b: Float32Array, pads: Pads, oh: number, ow: number): Float32Array {
  const out = new Float32Array(oh * ow * op.cout);
  for (let y = 0; y < oh; y++)
    for (let xx = 0; xx < ow; xx++)
      for (let o = 0; o < op.cout; o++) {
        let s = b[o];
        for (let ky = 0; ky < op.k; ky++)
          for (let kx = 0; kx < op.k; kx++)
            for (let i = 0; i < op.cin; i++) {
              const sy = y * op.stride + ky - pads[0];
              const sx = xx * op.stride + kx - pads[1];
              if (sy < 0 || sx < 0 || sy >= ih || sx >= iw) continue;
              s += x[(sy * iw + sx) * op.cin + i] * w[((o * op.k + ky) * op.k + kx) * op.cin + i];
            }
        out[(y * ow + xx) * op.cout + o] = op.relu ? Math.max(0, s) : s;
      }
  return out;
}

function close(a: Float32Array, b: Float32Array, tol: number, what: string): void {
  assert.equal(a.length, b.length, `${what} length`);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol * (1 + Math.abs(b[i])), `${what}[${i}]: ${a[i]} vs ${b[i]}`);
}

test('every op of a random F=2 model matches an independent naive implementation', () => {
  const m = randomFloatModel(arch, 3);
  // PyTorch-style padding on the stride-2 convs: the reference must honour each conv's own pads
  m.convs['ag2.s'].pads = [1, 1, 1, 1];
  const g = buildGraph(arch);
  const [frame] = noiseFrames(arch, 1);
  const t = runFloat(m, frame);
  assert.equal(t.size, g.tensors.size);
  for (let i = 0; i < frame.length; i++) assert.equal(t.get('input')![i], Math.fround(frame[i] / 255));
  for (const op of g.ops) {
    const o = g.tensors.get(op.output)!;
    const out = t.get(op.output)!;
    assert.equal(out.length, o.h * o.w * o.c, `${op.output} size`);
    if (op.kind === 'conv') {
      const i = g.tensors.get(op.input)!;
      const c = m.convs[op.name];
      close(out, naiveConv(t.get(op.input)!, i.h, i.w, op, c.weights, c.bias, c.pads ?? op.pads, o.h, o.w), 1e-5, op.name);
    } else if (op.kind === 'maxpool') {
      const x = t.get(op.input)!;
      const i = g.tensors.get(op.input)!;
      for (let y = 0; y < o.h; y++) for (let xx = 0; xx < o.w; xx++) for (let c = 0; c < o.c; c++) {
        const at = (yy: number, x2: number) => x[(yy * i.w + x2) * i.c + c];
        assert.equal(out[(y * o.w + xx) * o.c + c], Math.max(at(2 * y, 2 * xx), at(2 * y, 2 * xx + 1), at(2 * y + 1, 2 * xx), at(2 * y + 1, 2 * xx + 1)));
      }
    } else if (op.kind === 'upsample') {
      const x = t.get(op.input)!;
      const i = g.tensors.get(op.input)!;
      for (let y = 0; y < o.h; y++) for (let xx = 0; xx < o.w; xx++) for (let c = 0; c < o.c; c++) {
        assert.equal(out[(y * o.w + xx) * o.c + c], x[((y >> 1) * i.w + (xx >> 1)) * i.c + c]);
      }
    } else if (op.kind === 'concat') {
      const [a, b] = op.inputs.map((n) => t.get(n)!);
      const ca = g.tensors.get(op.inputs[0])!.c;
      for (let p = 0; p < o.h * o.w; p++) for (let c = 0; c < o.c; c++) {
        assert.equal(out[p * o.c + c], c < ca ? a[p * ca + c] : b[p * (o.c - ca) + c - ca]);
      }
    } else if (op.kind === 'add') {
      const [a, b] = op.inputs.map((n) => t.get(n)!);
      for (let k = 0; k < out.length; k++) assert.equal(out[k], Math.fround(a[k] + b[k]));
    } else if (op.kind === 'sigmoid') {
      const x = t.get(op.input)!;
      for (let k = 0; k < out.length; k++) assert.ok(Math.abs(out[k] - 1 / (1 + Math.exp(-x[k]))) < 1e-6);
    } else if (op.kind === 'gatemul') {
      const a = t.get(op.attention)!;
      const s = t.get(op.skip)!;
      for (let y = 0; y < o.h; y++) for (let xx = 0; xx < o.w; xx++) for (let c = 0; c < o.c; c++) {
        const k = (y * o.w + xx) * o.c + c;
        assert.equal(out[k], Math.fround(a[(y >> 1) * (o.w >> 1) + (xx >> 1)] * s[k]));
      }
    } else if (op.kind === 'affine') {
      const bn = m.batchNorms[op.name];
      const x = t.get(op.input)!;
      for (let k = 0; k < out.length; k++) {
        const c = k % op.channels;
        const want = (bn.gamma[c] * (x[k] - bn.mean[c])) / Math.sqrt(bn.variance[c] + bn.epsilon) + bn.beta[c];
        assert.ok(Math.abs(out[k] - want) < 1e-5, `${op.name}[${k}]`);
      }
    }
  }
});

test('hand case: a centre-tap kernel copies the input, a corner tap shifts it with zero padding', () => {
  const a = { filters: 1, height: 16, width: 16, channels: 1 };
  const m = randomFloatModel(a, 1);
  const w = m.convs['enc1.conv1'].weights; // 1x3x3x1
  w.fill(0);
  w[4] = 1; // centre
  m.convs['enc1.conv1'].bias.fill(0);
  const w2 = m.convs['enc1.conv2'].weights;
  w2.fill(0);
  w2[0] = 2; // top-left tap: out[y][x] = 2 * in[y-1][x-1]
  m.convs['enc1.conv2'].bias.fill(0.5);
  const px = Uint8Array.from({ length: 256 }, (_, i) => i);
  const t = runFloat(m, px);
  const c1a = t.get('enc1.conv1')!;
  for (let i = 0; i < 256; i++) assert.equal(c1a[i], Math.fround(i / 255));
  const c1 = t.get('c1')!;
  assert.equal(c1[0], 0.5); // padding row/column contributes 0
  assert.equal(c1[16 * 5 + 7], Math.fround(0.5 + 2 * Math.fround((16 * 4 + 6) / 255)));
  // 2x2 max-pool of c1: bottom-right of each window is the largest (input grows with index)
  assert.equal(t.get('p1')![0], c1[17]);
});

test('keep frees tensors and onTensor sees every tensor once; bad input size is refused', () => {
  const m = randomFloatModel(arch, 2);
  const ref = new FloatReference(m);
  const [frame] = noiseFrames(arch, 1);
  const seen: string[] = [];
  const kept = ref.run(frame, { keep: (n) => n === 'prob', onTensor: (n) => seen.push(n) });
  assert.deepEqual([...kept.keys()], ['prob']);
  assert.equal(new Set(seen).size, ref.graph.tensors.size);
  assert.equal(seen.length, ref.graph.tensors.size);
  assert.deepEqual(kept.get('prob'), runFloat(m, frame).get('prob'));
  assert.throws(() => ref.run(frame.subarray(1)), /input has 3071 bytes, the model needs 32x32x3/);
  const bad = randomFloatModel(arch, 2);
  bad.convs['enc2.conv1'].bias = new Float32Array(3);
  assert.throws(() => new FloatReference(bad), /enc2\.conv1 has .* and 3 biases, the graph needs .* and 4/);
});
