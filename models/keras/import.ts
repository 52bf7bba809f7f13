// importKeras: the study's Keras model -> FloatModel, read with h5wasm, from
// - the HDF5 file that `model.save('AttentionCustomUNet.h5')` / ModelCheckpoint
//   write (tf.keras 2.x, and Keras 3's legacy HDF5 writer: same layout, weight
//   names without ':0'), or
// - the `.keras` zip archive Keras 3 writes by default (models/keras/archive.ts).
//
// HDF5 layout (hdf5_format.save_weights_to_hdf5_group): group `model_weights`
// (or the root, for `save_weights` files) lists its layers in attribute
// `layer_names`; each layer group lists its weights in attribute
// `weight_names` (trainable first, then non-trainable, in sub-layer creation
// order) and stores each at `<layer>/<weight name>`, e.g.
// `model_weights/Encoder1/Encoder1/conv2d/kernel:0`. Sub-layer names
// (conv2d_17, encoder_block_4, ...) depend on the training session, so
// weights are taken by order and kind (kernel, bias, gamma, ...), never by
// those names. Conv kernels are HWIO; all convs are 'same' padded.
import { createHash } from 'node:crypto';
import h5wasm from 'h5wasm/node';
import { readKerasArchive, isZip } from './archive.js';
import { inputSizeOfConfig, withHdf5, type H5Dataset, type H5Group, type KerasLayers, type Weight } from './hdf5.js';
import { FileError } from '../../common/errors.js';
import { ArchError, buildGraph, type Arch, type ConvOp, type Graph } from '../graph.js';
import { DEFAULT_PREPROCESSING, type FloatBatchNorm, type FloatConv, type FloatModel } from '../float-model.js';
import { readInputFile } from '../../common/input-file.js';
import { convertConvLayout } from '../conv-layout.js';

export interface KerasImportOptions {
  /** input height/width when the file has no model_config (a save_weights file) */
  height?: number;
  width?: number;
}

/** Keras' BatchNormalization default; the custom AttentionGate does not configure it. */
export const KERAS_BN_EPSILON = 1e-3;

export async function importKeras(path: string, options: KerasImportOptions = {}): Promise<FloatModel> {
  const bytes = readInputFile(path);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (isZip(bytes)) return readKerasArchive(path, bytes, (layers) => assemble(path, layers, options, sha256));
  if (bytes.subarray(0, 8).toString('latin1') !== '\x89HDF\r\n\x1a\n') {
    throw new FileError(path, 'neither an HDF5 file (model.save .h5) nor a Keras 3 .keras archive (zip)');
  }
  return withHdf5(path, (file) => assemble(path, legacyLayers(path, file), options, sha256));
}

/** The tf.keras 2.x / Keras 3 legacy HDF5 layout: layer_names and weight_names attributes. */
function legacyLayers(path: string, file: InstanceType<typeof h5wasm.File>): KerasLayers {
  const fail = (problem: string): never => {
    throw new FileError(path, problem, 'KERAS_LAYOUT');
  };
  const weightsGroup = (file.keys().includes('model_weights') ? file.get('model_weights') : file) as H5Group;
  const layerNames = strings(weightsGroup, 'layer_names');
  if (!layerNames) {
    fail(`no 'model_weights' group with a 'layer_names' attribute: not a Keras model.save/save_weights HDF5 file (top-level entries: ${file.keys().join(', ') || 'none'})`);
  }

  const layer = (name: string): Weight[] => {
    if (!layerNames!.includes(name)) fail(`model_weights has no layer '${name}' (layers: ${layerNames!.join(', ')})`);
    const g = weightsGroup.get(name) as H5Group | null;
    if (!g) fail(`layer '${name}' is listed in layer_names but model_weights/${name} is missing`);
    const names = strings(g!, 'weight_names') ?? fail(`layer group model_weights/${name} has no 'weight_names' attribute`);
    return names.map((wn) => {
      const ds = g!.get(wn) as H5Dataset | null;
      if (!ds || !('shape' in ds)) fail(`weight '${wn}' of layer '${name}' is listed in weight_names but dataset model_weights/${name}/${wn} is missing`);
      const v = ds!.value;
      if (!(v instanceof Float32Array || v instanceof Float64Array)) fail(`dataset model_weights/${name}/${wn} is not floating point (dtype ${String(ds!.dtype)})`);
      const kind = (wn.split('/').pop() ?? '').replace(/:\d+$/, '');
      return { name: `model_weights/${name}/${wn}`, kind, shape: ds!.shape ?? [], data: Float32Array.from(v as Float32Array) };
    });
  };
  return { layerNames: layerNames!, layer, inputSize: inputSize(file), format: 'keras-h5' };
}

function assemble(path: string, src: KerasLayers, options: KerasImportOptions, sha256: string): FloatModel {
  const fail = (problem: string): never => {
    throw new FileError(path, problem, 'KERAS_LAYOUT');
  };
  const { layerNames, layer } = src;
  // F and input channels from Encoder1's first kernel (HWIO), input size from the model config.
  const enc1 = layer('Encoder1');
  const k0 = enc1.find((w) => w.kind === 'kernel') ?? fail(`layer 'Encoder1' has no conv kernel`);
  if (k0.shape.length !== 4 || k0.shape[0] !== 3 || k0.shape[1] !== 3) fail(`${k0.name} has shape [${k0.shape}], expected a 3x3 conv kernel [3, 3, channels, F]`);
  const size = src.inputSize ?? (options.height && options.width ? { height: options.height, width: options.width } : undefined);
  if (!size) fail('the file has no model_config with the input shape; give the input height and width explicitly');
  const arch: Arch = { filters: k0.shape[3], channels: k0.shape[2], height: size!.height, width: size!.width };
  let graph: Graph;
  try {
    graph = buildGraph(arch);
  } catch (e) {
    if (e instanceof ArchError) fail(`the weights imply an unsupported architecture: ${e.message}`);
    throw e;
  }

  const convs: Record<string, FloatConv> = {};
  const batchNorms: Record<string, FloatBatchNorm> = {};
  const blocks = new Map<string, ConvOp[]>();
  for (const op of graph!.ops) {
    if (op.kind !== 'conv') continue;
    blocks.set(op.block, [...(blocks.get(op.block) ?? []), op]);
  }
  for (const [block, ops] of blocks) {
    const name = block === 'conv2d' ? finalConvLayer(layerNames, fail) : block;
    const weights = block === 'Encoder1' ? enc1 : layer(name);
    const kernels = weights.filter((w) => w.kind === 'kernel');
    const biases = weights.filter((w) => w.kind === 'bias');
    if (kernels.length !== ops.length || biases.length !== ops.length) {
      fail(`layer '${name}' has ${kernels.length} conv kernels and ${biases.length} biases (${weights.map((w) => w.name.split('/').slice(2).join('/')).join(', ')}); ${block} has ${ops.length} convs with bias`);
    }
    ops.forEach((op, i) => {
      const want = [op.k, op.k, op.cin, op.cout];
      if (kernels[i].shape.join() !== want.join()) fail(`${kernels[i].name} has shape [${kernels[i].shape}], but ${op.name} needs [${want}] (HWIO)`);
      if (biases[i].shape.join() !== String(op.cout)) fail(`${biases[i].name} has shape [${biases[i].shape}], but ${op.name} needs [${op.cout}]`);
      convs[op.name] = { weights: convertConvLayout(kernels[i].data, op, 'HWIO', 'OHWI'), bias: biases[i].data, pads: op.pads };
    });
    const affine = graph!.ops.find((o) => o.kind === 'affine' && o.block === block);
    if (affine && affine.kind === 'affine') batchNorms[affine.name] = batchNorm(name, weights, affine.channels, fail);
  }
  return {
    arch,
    preprocessing: DEFAULT_PREPROCESSING,
    convs,
    batchNorms,
    source: { file: path, format: src.format, sha256 },
  };
}

/** The gate's BatchNormalization (gamma, beta, moving mean, moving variance), or identity for a gate built with bn=False. */
function batchNorm(layer: string, weights: Weight[], c: number, fail: (p: string) => never): FloatBatchNorm {
  const get = (kind: string) => weights.filter((w) => w.kind === kind);
  const parts = ['gamma', 'beta', 'moving_mean', 'moving_variance'].map(get);
  if (parts.every((p) => p.length === 0)) {
    return { gamma: new Float32Array(c).fill(1), beta: new Float32Array(c), mean: new Float32Array(c), variance: new Float32Array(c).fill(1), epsilon: 0 };
  }
  const [gamma, beta, mean, variance] = parts.map((p, i) => {
    const kind = ['gamma', 'beta', 'moving_mean', 'moving_variance'][i];
    if (p.length !== 1) fail(`layer '${layer}' has ${p.length} BatchNormalization '${kind}' weights, expected 1`);
    if (p[0].data.length !== c) fail(`${p[0].name} has ${p[0].data.length} values, the gate's BatchNorm has ${c} channels`);
    return p[0].data;
  });
  return { gamma, beta, mean, variance, epsilon: KERAS_BN_EPSILON };
}

/** The final 1x1 conv: Keras names it conv2d, conv2d_30, ... by session; take the one plain conv2d layer. */
function finalConvLayer(names: string[], fail: (p: string) => never): string {
  if (names.includes('conv2d')) return 'conv2d';
  const cands = names.filter((n) => /^conv2d(_\d+)?$/.test(n));
  if (cands.length !== 1) fail(`expected one final Conv2D layer named conv2d or conv2d_N, found ${cands.length ? cands.join(', ') : 'none'} (layers: ${names.join(', ')})`);
  return cands[0];
}

/** Input height and width from the root attribute model_config (InputLayer batch_input_shape [null, H, W, C]). */
function inputSize(file: InstanceType<typeof h5wasm.File>): { height: number; width: number } | undefined {
  const value = file.attrs['model_config']?.value;
  const raw = value instanceof Uint8Array ? new TextDecoder().decode(value) : value;
  return typeof raw === 'string' ? inputSizeOfConfig(raw) : undefined;
}

/** A string-list attribute (h5py writes fixed-length byte strings), or undefined when absent. */
function strings(g: H5Group, name: string): string[] | undefined {
  const attrs = g.attrs;
  let v: unknown;
  if (name in attrs) v = attrs[name].value;
  else if (`${name}0` in attrs) {
    // Keras splits attributes over 64 KiB into name0, name1, ...
    const parts: unknown[] = [];
    for (let i = 0; `${name}${i}` in attrs; i++) parts.push(...toList(attrs[`${name}${i}`].value));
    v = parts;
  } else return undefined;
  return toList(v).map((s) => (s instanceof Uint8Array ? new TextDecoder().decode(s) : String(s)).replace(/\0+$/, ''));
}

function toList(v: unknown): unknown[] {
  if (v === null || v === undefined) return [];
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : Array.from(v as ArrayLike<unknown>);
}
