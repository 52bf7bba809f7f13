// The Keras 3 `.keras` archive (model.save's default since Keras 3): a zip of
// config.json (the functional model: layer classes and names in order),
// metadata.json and model.weights.h5. The weights file nests each layer's
// variables under the Python attribute names of its sub-layers, e.g.
// `layers/attention_gate/normal/vars/0` (kernel) with attribute `name` =
// 'Attention1' on `layers/attention_gate/vars`; the group names
// (attention_gate, attention_gate_1, ...) are per-session class counters, so a
// layer is found by that `name` attribute, never by its group name. Inside the
// study's classes the sub-layers are its attributes (study-report.txt appendix):
// EncoderBlock c1, c2; DecoderBlock net.c1, net.c2; AttentionGate normal, down,
// learn, BN. Conv2D variables are [kernel, bias]; BatchNormalization
// [gamma, beta, moving_mean, moving_variance].
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { FileError } from '../../common/errors.js';
import { inputSizeOfConfig, withHdf5, type H5Group, type KerasLayers, type Weight } from './hdf5.js';

/** Sub-layer attribute paths of the study's classes, in the order their weights are used. */
const SUBLAYERS: Record<string, string[]> = {
  EncoderBlock: ['c1', 'c2'],
  DecoderBlock: ['net/c1', 'net/c2'],
  AttentionGate: ['normal', 'down', 'learn', 'BN'],
  Conv2D: [''],
};
const CONV_KINDS = ['kernel', 'bias'];
const BN_KINDS = ['gamma', 'beta', 'moving_mean', 'moving_variance'];

export function isZip(bytes: Uint8Array): boolean {
  return bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 3 && bytes[3] === 4;
}

interface ConfigLayer {
  class_name?: string;
  name?: string;
  config?: { name?: string };
}

export async function readKerasArchive<T>(path: string, bytes: Uint8Array, use: (layers: KerasLayers) => T): Promise<T> {
  const fail = (problem: string): never => {
    throw new FileError(path, problem, 'KERAS_LAYOUT');
  };
  let files: Record<string, Uint8Array> = {};
  try {
    files = unzipSync(bytes);
  } catch (e) {
    fail(`damaged .keras (zip) archive: ${(e as Error).message}`);
  }
  const names = Object.keys(files);
  if (!files['config.json'] || !files['model.weights.h5']) {
    fail(`not a Keras 3 .keras archive: it holds ${names.join(', ') || 'nothing'} (expected config.json and model.weights.h5)`);
  }
  const configText = new TextDecoder().decode(files['config.json']);
  let layers: ConfigLayer[] = [];
  try {
    layers = (JSON.parse(configText) as { config?: { layers?: ConfigLayer[] } }).config?.layers ?? [];
  } catch (e) {
    fail(`config.json is not JSON: ${(e as Error).message}`);
  }
  if (layers.length === 0) fail('config.json has no functional model layers (a Sequential or subclassed model is not the study network)');
  const classOf = new Map(layers.map((l) => [l.name ?? l.config?.name ?? '', l.class_name ?? '']));
  // libhdf5 opens files by name: the weights go to a private temporary folder for the time of the read
  const dir = mkdtempSync(join(tmpdir(), 'aunet-keras-'));
  const weightsFile = join(dir, 'model.weights.h5');
  try {
    writeFileSync(weightsFile, files['model.weights.h5']);
    return await withHdf5(weightsFile, (h5) => {
      const root = h5.get('layers') as H5Group | null;
      if (!root || !('keys' in root)) fail(`model.weights.h5 has no 'layers' group (top-level entries: ${h5.keys().join(', ')})`);
      // layer name (the `name` attribute of <group>/vars) -> its group
      const groups = new Map<string, { key: string; group: H5Group }>();
      for (const key of root!.keys()) {
        const g = root!.get(key) as H5Group;
        const vars = g.get('vars') as H5Group | null;
        const n = vars?.attrs['name']?.value;
        if (typeof n === 'string') groups.set(n, { key, group: g });
      }
      const layer = (name: string): Weight[] => {
        const found = groups.get(name) ?? fail(`model.weights.h5 has no layer '${name}' (layers: ${[...groups.keys()].join(', ')})`);
        const cls = classOf.get(name) ?? '';
        const subs = SUBLAYERS[cls] ?? fail(`layer '${name}' is a ${cls || 'layer of unknown class'} in config.json; the study's classes are ${Object.keys(SUBLAYERS).join(', ')}`);
        return subs.flatMap((sub) => {
          const where = `layers/${found.key}${sub ? `/${sub}` : ''}/vars`;
          const vars = (sub ? found.group.get(`${sub}/vars`) : found.group.get('vars')) as H5Group | null;
          if (!vars || !('keys' in vars)) fail(`layer '${name}' (${cls}) has no sub-layer '${sub}' (${where} is missing)`);
          const count = vars!.keys().length;
          if (count === 0) return []; // a sub-layer never called (an AttentionGate with bn=False): no variables
          const kinds = sub === 'BN' ? BN_KINDS : CONV_KINDS;
          if (count !== kinds.length) fail(`${where} holds ${count} variables, expected ${kinds.length} (${kinds.join(', ')})`);
          return kinds.map((kind, i) => {
            const ds = vars!.get(String(i)) as { value?: unknown; shape?: number[] | null } | null;
            const v = ds?.value;
            if (!(v instanceof Float32Array || v instanceof Float64Array)) fail(`${where}/${i} (${kind} of ${name}) is not a floating-point dataset`);
            return { name: `${where}/${i}`, kind, shape: ds!.shape ?? [], data: Float32Array.from(v as Float32Array) };
          });
        });
      };
      return use({ layerNames: layers.map((l) => l.name ?? l.config?.name ?? ''), layer, inputSize: inputSizeOfConfig(configText), format: 'keras-v3' });
    }, `${path} (model.weights.h5)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
