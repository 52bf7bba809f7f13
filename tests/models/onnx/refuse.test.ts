// Graphs that are not the Attention U-Net are refused with a FileError that
// names the node that did not fit and why.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FileError } from '../../../common/errors.js';
import { exportOnnx } from '../../../models/onnx/export.js';
import { importOnnx } from '../../../models/onnx/import.js';
import { AttrType, onnx, type GraphMessage, type NodeMessage } from '../../../models/onnx/proto.js';
import { prng, randomFloatModel } from '../../../models/random-model.js';
import { tf2onnxLike } from './tf2onnx-like.js';

const model = randomFloatModel({ filters: 2, height: 32, width: 32, channels: 1 }, 4);
const good = exportOnnx(model);

/** Decode the good export, let `edit` change its graph, encode again. */
function mutate(edit: (g: GraphMessage) => void, bytes = good): Uint8Array {
  const m = onnx.ModelProto.decode(bytes);
  edit(m.graph as GraphMessage);
  return onnx.ModelProto.encode(m).finish();
}

function node(g: GraphMessage, name: string): NodeMessage {
  const n = g.node.find((x) => x.name === name);
  if (!n) throw new Error(`test: no node ${name}`);
  return n as NodeMessage;
}

function setString(n: NodeMessage, name: string, value: string) {
  const a = n.attribute.find((x) => x.name === name);
  const s = new TextEncoder().encode(value);
  if (a) a.s = s;
  else n.attribute.push(onnx.AttributeProto.create({ name, type: AttrType.STRING, s }));
}

function refuses(bytes: Uint8Array, ...patterns: RegExp[]) {
  assert.throws(
    () => importOnnx(bytes, { name: 'bad.onnx' }),
    (e: unknown) => {
      assert.ok(e instanceof FileError, `expected a FileError, got ${String(e)}`);
      assert.equal(e.file, 'bad.onnx');
      for (const p of patterns) assert.match(e.message, p);
      return true;
    },
  );
}

describe('ONNX import refusals', () => {
  it('accepts the unmodified export (the mutations below are what breaks it)', () => {
    assert.equal(importOnnx(good).arch.filters, 2);
  });

  it('an extra node in the path: names it and what was expected there', () => {
    refuses(mutate((g) => {
      const add = node(g, 'ag1.add');
      add.output = ['ag1.t.pre'];
      g.node.push(onnx.NodeProto.create({ name: 'extra_relu', opType: 'Relu', input: ['ag1.t.pre'], output: ['ag1.t'] }));
    }), /node 'extra_relu' \(Relu\) does not fit/, /expected 1x1 Conv 'ag1\.psi' of Attention1/, /'ag1\.add' \(Add\)/);
  });

  it('a dangling extra node: names it as not part of the topology', () => {
    refuses(mutate((g) => {
      g.node.push(onnx.NodeProto.create({ name: 'stray', opType: 'Sigmoid', input: ['c2'], output: ['stray_out'] }));
    }), /'stray' \(Sigmoid\)/);
  });

  it('a missing Relu: names the node found instead', () => {
    refuses(mutate((g) => {
      const i = g.node.findIndex((n) => n.name === 'enc2.conv1.relu');
      g.node.splice(i, 1);
      node(g, 'enc2.conv1').output = ['enc2.conv1'];
    }), /node 'enc2\.conv2' \(Conv\) does not fit/, /expected Relu after 3x3 Conv 'enc2\.conv1'/);
  });

  it('a bilinear Resize: names it and the mode', () => {
    refuses(mutate((g) => setString(node(g, 'dec2.upsample'), 'mode', 'linear')), /'dec2\.upsample' \(Resize\)/, /mode 'linear'/);
  });

  it('a nearest Resize whose rounding shifts rows: names it and the first wrong index', () => {
    refuses(mutate((g) => {
      setString(node(g, 'ag3.mul.upsample'), 'coordinate_transformation_mode', 'half_pixel');
      setString(node(g, 'ag3.mul.upsample'), 'nearest_mode', 'floor');
    }), /'ag3\.mul\.upsample' \(Resize\)/, /output index 2 reads input 0/);
  });

  it('a swapped Concat: names it and the order it needs', () => {
    refuses(mutate((g) => {
      const n = node(g, 'dec3.concat');
      n.input = [n.input[1], n.input[0]];
    }), /'dec3\.concat' \(Concat\) concatenates \[ag3\.out, dec3\.up\]/, /Decoder3 concatenates \[dec3\.up, ag3\.out\]/);
  });

  it('a stride-1 conv where the gate downsamples: names it', () => {
    refuses(mutate((g) => {
      const n = node(g, 'ag2.s');
      n.attribute.find((a) => a.name === 'strides')!.ints = [1, 1];
    }), /'ag2\.s' \(Conv\)/, /strides \[1,1\]/);
  });

  it('an activation the network does not have: names it', () => {
    refuses(mutate((g) => {
      node(g, 'dec1.conv2.relu').opType = 'LeakyRelu';
    }), /'dec1\.conv2\.relu' \(LeakyRelu\) does not fit/, /expected Relu/);
  });

  it('a ReLU6 (Clip with a max): names it and the range', () => {
    const m = randomFloatModel({ filters: 2, height: 32, width: 32, channels: 1 }, 6);
    refuses(mutate((g) => {
      const clip = (g.node as NodeMessage[]).find((n) => n.opType === 'Clip' && n.output[0] === 'enc2.conv1')!;
      clip.input.push('six');
      g.initializer.push(onnx.TensorProto.create({ name: 'six', dims: [], dataType: 1, floatData: [6] }));
    }, tf2onnxLike(m, { clipRelu: true })), /\(Clip\) clips to \[0, 6\]/);
  });

  it('a conv with the wrong kernel: names it and both shapes', () => {
    refuses(mutate((g) => {
      const w = g.initializer.find((t) => t.name === 'dec4.conv1.weight')!;
      w.dims = [2, 6, 1, 9];
    }), /'dec4\.conv1' \(Conv\) has weights \[2,6,1,9\]/, /needs \[2,6,3,3\]/);
  });

  it('an output that is the logit, not the probability', () => {
    refuses(mutate((g) => {
      g.node.splice(g.node.findIndex((n) => n.name === 'out.sigmoid'), 1);
      g.output[0].name = 'out.logit';
    }), /output of node 'out\.conv' \(Conv\) goes nowhere: expected Sigmoid 'out\.sigmoid'/);
  });

  it('an NHWC graph with a Transpose missing before a conv: names the conv and the layouts', () => {
    const m = randomFloatModel({ filters: 2, height: 32, width: 32, channels: 1 }, 5);
    refuses(mutate((g) => {
      const nodes = g.node as NodeMessage[];
      const conv = nodes.find((n) => n.opType === 'Conv' && n.input[1] === 'enc3.conv2/kernel')!;
      const tr = nodes.find((n) => n.output[0] === conv.input[0])!;
      conv.input[0] = tr.input[0];
      nodes.splice(nodes.indexOf(tr), 1);
    }, tf2onnxLike(m)), /reads its input with axes NHWC, but Conv needs NCHW/);
  });

  it('a corrupted file (any byte of the graph part changed, or cut short) imports or is a FileError, never a crash', () => {
    const small = exportOnnx(randomFloatModel({ filters: 1, height: 16, width: 16, channels: 1 }, 2), { layout: 'NHWC', foldBatchNorm: true });
    const rand = prng(42);
    let refused = 0;
    for (let i = 0; i < 600; i++) {
      const b = Uint8Array.from(small);
      b[Math.floor(rand() * 15000)] = Math.floor(rand() * 256); // the nodes; the rest is mostly weights
      const bytes = i % 5 === 0 ? b.subarray(0, Math.floor(rand() * b.length)) : b;
      try {
        importOnnx(bytes, { name: 'fuzz.onnx' });
      } catch (e) {
        if (!(e instanceof FileError)) throw new Error(`mutation ${i}: ${(e as Error).stack}`);
        refused++;
      }
    }
    assert.ok(refused > 100, `only ${refused} of 600 corruptions refused`);
  });

  it('a second input, bytes that are not ONNX, a file that is not there', () => {
    refuses(mutate((g) => {
      g.input.push(onnx.ValueInfoProto.create({ name: 'extra_input', type: g.input[0].type }));
    }), /expected one image input, the model has 2/);
    refuses(new TextEncoder().encode('this is not a protobuf at all, just text'), /not an ONNX model/);
    refuses(good.subarray(0, good.length >> 1), /not an ONNX model/);
    assert.throws(() => importOnnx('/nonexistent/model.onnx'), /\/nonexistent\/model\.onnx: not found/);
  });
});
