// HDF5 access shared by both Keras file kinds (models/keras/import.ts: the
// legacy .h5; models/keras/archive.ts: the weights inside a .keras archive), and
// what each kind hands to the one assembler: layer names and per-layer weights.
import h5wasm from 'h5wasm/node';
import { FileError } from '../../common/errors.js';

export type H5Group = InstanceType<typeof h5wasm.Group>;
export type H5Dataset = InstanceType<typeof h5wasm.Dataset>;

/** What either file kind yields: its layer names, each layer's weights in creation order, the input size if recorded. */
export interface KerasLayers {
  layerNames: string[];
  layer(name: string): Weight[];
  inputSize?: { height: number; width: number };
  format: 'keras-h5' | 'keras-v3';
}

export interface Weight {
  /** full weight name, e.g. 'Attention1/batch_normalization/gamma:0' */
  name: string;
  /** last path component without ':0': kernel, bias, gamma, beta, moving_mean, moving_variance */
  kind: string;
  shape: number[];
  data: Float32Array;
}

/** Opens an HDF5 file with libhdf5's errors as exceptions, and turns a corrupt file into a FileError naming `shown`. */
export async function withHdf5<T>(file: string, use: (f: InstanceType<typeof h5wasm.File>) => T, shown = file): Promise<T> {
  const module = await h5wasm.ready;
  // HDF5 errors become exceptions instead of diagnostics printed to stderr
  (module as unknown as { activate_throwing_error_handler(): number }).activate_throwing_error_handler();
  let h5: InstanceType<typeof h5wasm.File> | undefined;
  try {
    h5 = new h5wasm.File(file, 'r');
    return use(h5);
  } catch (e) {
    // a corrupt file fails inside libhdf5 (plain Errors); our own problems are FileErrors already
    if (e instanceof FileError || Object.getPrototypeOf(e) !== Error.prototype) throw e;
    throw new FileError(shown, `corrupt or unreadable HDF5: ${hdf5Problem((e as Error).message)}`, 'KERAS_LAYOUT');
  } finally {
    try {
      h5?.close();
    } catch {
      // closing a corrupt file can fail too; the first error is the one to report
    }
  }
}

/** The useful part of an HDF5 error stack: its deepest 'minor' reason, or the first line. */
function hdf5Problem(message: string): string {
  const minors = [...message.matchAll(/minor: ([^\n]+)/g)].map((m) => m[1].trim());
  const first = message.split('\n')[0].trim();
  return minors.length ? `${minors[minors.length - 1]} (${minors[0]})` : first.slice(0, 200);
}

/** Input height and width from a model config JSON (the .h5 model_config attribute, the .keras config.json). */
export function inputSizeOfConfig(raw: string): { height: number; width: number } | undefined {
  try {
    const cfg = JSON.parse(raw) as { config?: { layers?: { class_name?: string; config?: { batch_input_shape?: unknown[]; batch_shape?: unknown[] } }[] } };
    const input = cfg.config?.layers?.find((l) => l.class_name === 'InputLayer');
    const shape = input?.config?.batch_input_shape ?? input?.config?.batch_shape;
    if (shape && typeof shape[1] === 'number' && typeof shape[2] === 'number') return { height: shape[1], width: shape[2] };
  } catch {
    return undefined;
  }
  return undefined;
}

