// The one way the model tools (quantize, compare, export) read a float model:
// an ONNX export (PyTorch, tf2onnx) or the study's Keras model (.h5, or the
// Keras 3 .keras archive), picked by content (HDF5 or zip magic) or extension. An .aunet file is refused with the reason:
// it holds only int8 weights. The model records its file's SHA-256 as provenance.
import { createHash } from 'node:crypto';
import { extname } from 'node:path';
import type { FloatModel } from '../../models/float-model.js';
import { FileError, UsageError } from '../../common/errors.js';
import { readInputFile } from '../../common/input-file.js';
import { provenanceName } from '../../common/provenance.js';

const HDF5_MAGIC = '\x89HDF\r\n\x1a\n';
const AUNET_MAGIC = '\x89AUNET\r\n';

export interface LoadedFloatModel {
  model: FloatModel;
  /** how it was read, for a report line: ' (Keras HDF5)', ' (ONNX opset 13 from pytorch ...)' */
  note: string;
}

export interface FloatModelRequest {
  /** input height and width for files that do not fix them (symbolic ONNX axes, Keras weights-only files) */
  size?: { height: number; width: number };
  /** what the float weights are for, in the refusal of an .aunet file (default 'quantization') */
  purpose?: string;
}

export async function loadFloatModel(path: string, req: FloatModelRequest = {}): Promise<LoadedFloatModel> {
  const { size } = req;
  const ext = extname(path).toLowerCase();
  const noFloat = `an .aunet model holds only the int8 weights: the float weights ${req.purpose ?? 'quantization'} needs are gone. Use the float source (the .onnx, .h5 or .keras it was quantized from; \`aunet inspect\` shows its name and SHA-256; the shipped models/busi-lite.aunet has models/busi-lite.onnx beside it)`;
  if (ext === '.aunet') throw new FileError(path, noFloat, 'NOT_FLOAT');
  const bytes = readInputFile(path, 'model');
  const head = bytes.subarray(0, 8).toString('latin1');
  if (head === AUNET_MAGIC) throw new FileError(path, noFloat, 'NOT_FLOAT');
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const provenance = (model: FloatModel, format: string): FloatModel => {
    // a path inside the package or the file name, never the building machine's layout (common/provenance.ts)
    model.source = { format, ...model.source, file: provenanceName(path), sha256 };
    return model;
  };
  const zip = head.startsWith('PK\x03\x04');
  if (head === HDF5_MAGIC || zip || ext === '.h5' || ext === '.hdf5' || ext === '.keras') {
    const { importKeras } = await import('../../models/keras/import.js');
    return { model: provenance(await importKeras(path, size ?? {}), 'keras-h5'), note: zip ? ' (Keras 3 .keras archive)' : ' (Keras HDF5)' };
  }
  if (ext !== '.onnx' && ext !== '') throw new UsageError(`${path}: unknown float model type '${ext}' (expected .onnx, .h5 or .keras)`);
  const { importOnnxWithInfo } = await import('../../models/onnx/import.js');
  const { model, info } = importOnnxWithInfo(bytes, { ...size, name: path });
  return {
    model: provenance(model, 'onnx'),
    note: ` (ONNX opset ${info.opset} from ${info.producer || 'unknown producer'}, ${info.inputLayout} input, gate BatchNorm as ${info.batchNormForm})`,
  };
}
