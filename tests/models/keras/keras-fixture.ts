// Writes a FloatModel as the study's tf.keras 2.x `model.save` HDF5 file would
// hold it (h5py layout, attributes and session-dependent sub-layer names as a
// fresh session produces them: conv2d..conv2d_29 inside the custom layers, the
// output layer conv2d_30, Decoder k's inner EncoderBlock encoder_block[_k-1]),
// for the Keras importer tests. There is no TensorFlow here to write the real
// thing; the layout follows keras/saving/legacy/hdf5_format.py.
import h5wasm from 'h5wasm/node';
import { buildGraph, type ConvOp } from '../../../models/graph.js';
import type { FloatModel } from '../../../models/float-model.js';
import { convertConvLayout } from '../../../models/conv-layout.js';

export interface KerasFixtureOptions {
  /** leave the gate BatchNorms out (AttentionGate(bn=False)) */
  noBatchNorm?: boolean;
  /** leave out the root model_config attribute (as a save_weights file) */
  noConfig?: boolean;
  /** leave out this layer group (and its layer_names entry) */
  dropLayer?: string;
  /** leave out the dataset of this weight name, keeping it in weight_names */
  dropDataset?: string;
  /** name of the output Conv2D layer (a fresh session: conv2d_30) */
  outputLayer?: string;
  /** write these weights (by weight name) with another shape and data */
  replace?: Record<string, { shape: number[]; data: Float32Array }>;
}

type H5Group = InstanceType<typeof h5wasm.Group>;

export async function writeKerasH5(path: string, model: FloatModel, opts: KerasFixtureOptions = {}): Promise<void> {
  await h5wasm.ready;
  const g = buildGraph(model.arch);
  const { height, width, channels } = model.arch;
  const outputLayer = opts.outputLayer ?? 'conv2d_30';
  let convCounter = 0;
  let bnCounter = 0;
  let blockCounter = 0;
  const suffix = (n: number) => (n === 0 ? '' : `_${n}`);
  const convName = () => `conv2d${suffix(convCounter++)}`;

  // per layer: [weight name, shape, data] in weight_names order (trainable first, then moving stats)
  const layers: { name: string; weights: [string, number[], Float32Array][] }[] = [];
  const blocks = ['Encoder1', 'Encoder2', 'Encoder3', 'Encoder4', 'Encoding'];
  for (let k = 1; k <= 4; k++) blocks.push(`Attention${k}`, `Decoder${k}`);
  for (const block of blocks) {
    const ops = g.ops.filter((o): o is ConvOp => o.kind === 'conv' && o.block === block);
    const scope = block.startsWith('Decoder') ? `${block}/encoder_block${suffix(blockCounter++)}` : block;
    const weights: [string, number[], Float32Array][] = [];
    const moving: [string, number[], Float32Array][] = [];
    for (const op of ops) {
      const n = convName();
      const c = model.convs[op.name];
      weights.push([`${scope}/${n}/kernel:0`, [op.k, op.k, op.cin, op.cout], convertConvLayout(c.weights, op, 'OHWI', 'HWIO')]);
      weights.push([`${scope}/${n}/bias:0`, [op.cout], c.bias]);
    }
    if (block.startsWith('Attention') && !opts.noBatchNorm) {
      const bnName = `batch_normalization${suffix(bnCounter++)}`;
      const bn = model.batchNorms[`ag${block.slice(-1)}.bn`];
      const c = bn.gamma.length;
      weights.push([`${block}/${bnName}/gamma:0`, [c], bn.gamma], [`${block}/${bnName}/beta:0`, [c], bn.beta]);
      moving.push([`${block}/${bnName}/moving_mean:0`, [c], bn.mean], [`${block}/${bnName}/moving_variance:0`, [c], bn.variance]);
    }
    layers.push({ name: block, weights: [...weights, ...moving] });
  }
  const out = model.convs['out.conv'];
  const outOp = g.ops.find((o): o is ConvOp => o.kind === 'conv' && o.name === 'out.conv')!;
  layers.push({
    name: outputLayer,
    weights: [
      [`${outputLayer}/kernel:0`, [1, 1, outOp.cin, 1], convertConvLayout(out.weights, outOp, 'OHWI', 'HWIO')],
      [`${outputLayer}/bias:0`, [1], out.bias],
    ],
  });

  const f = new h5wasm.File(path, 'w');
  try {
    f.create_attribute('keras_version', '2.13.1');
    f.create_attribute('backend', 'tensorflow');
    if (!opts.noConfig) {
      const config = {
        class_name: 'Functional',
        config: {
          name: 'model',
          layers: [
            { class_name: 'InputLayer', name: 'input_1', config: { batch_input_shape: [null, height, width, channels], dtype: 'float32', sparse: false, ragged: false, name: 'input_1' }, inbound_nodes: [] },
            ...layers.map((l) => ({ class_name: l.name === outputLayer ? 'Conv2D' : l.name.replace(/\d$/, ''), name: l.name, config: { name: l.name } })),
          ],
        },
      };
      // h5py stores Python bytes as a fixed-length string
      const json = JSON.stringify(config);
      f.create_attribute('model_config', json, null, `S${Buffer.byteLength(json)}`);
    }
    const mw = f.create_group('model_weights');
    const kept = layers.filter((l) => l.name !== opts.dropLayer);
    const names = ['input_1', ...kept.map((l) => l.name)];
    mw.create_attribute('layer_names', names, null, `S${Math.max(...names.map((n) => n.length))}`);
    mw.create_attribute('backend', 'tensorflow');
    mw.create_attribute('keras_version', '2.13.1');
    mw.create_group('input_1').create_attribute('weight_names', new Float64Array(0), [0], '<d');
    for (const l of kept) {
      const lg = mw.create_group(l.name);
      const wn = l.weights.map(([n]) => n);
      lg.create_attribute('weight_names', wn, null, `S${Math.max(...wn.map((n) => n.length))}`);
      for (const [n, shape, data] of l.weights) {
        if (n === opts.dropDataset) continue;
        const r = opts.replace?.[n];
        const parts = n.split('/');
        let grp: H5Group = lg;
        // h5wasm creates one group level at a time
        for (const p of parts.slice(0, -1)) grp = (grp.keys().includes(p) ? grp.get(p) : grp.create_group(p)) as H5Group;
        grp.create_dataset({ name: parts[parts.length - 1], data: Float32Array.from(r?.data ?? data), shape: r?.shape ?? shape, dtype: '<f' });
      }
    }
  } finally {
    f.close();
  }
}
