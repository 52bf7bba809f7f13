// aunet export: a float model (ONNX from PyTorch/tf2onnx, or the study's Keras
// .h5) re-written as a plain ONNX model of the network (models/onnx/export.ts)
// that any ONNX runtime runs: NCHW or NHWC input, BatchNorm as a node or
// folded. An .aunet file cannot be exported: it holds only int8 weights.
import type { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { exportOnnx, ONNX_INPUT_NAME, ONNX_OUTPUT_NAME } from '../../models/onnx/export.js';
import { loadFloatModel } from '../load/float-model-loader.js';
import { FileError, UsageError } from '../../common/errors.js';
import { parseInteger } from '../../common/cli-args.js';

interface Options {
  from: string;
  onnx: string;
  layout: string;
  foldBatchnorm?: boolean;
  opset: string;
  attentionOutputs?: boolean;
  inputSize?: string;
}

export function register(program: Command): void {
  program
    .command('export')
    .description('export a float model (ONNX or Keras .h5) as a plain ONNX model of the network')
    .requiredOption('--from <model>', 'float model: .onnx (PyTorch or tf2onnx export) or .h5 (Keras model.save)')
    .requiredOption('--onnx <out>', 'ONNX file to write')
    .option('--layout <layout>', "input/output layout: NCHW (PyTorch's) or NHWC (Keras')", 'NCHW')
    .option('--fold-batchnorm', 'write the gate BatchNorms as Mul/Add constants instead of BatchNormalization nodes')
    .option('--opset <n>', 'ONNX opset, 11..18', '13')
    .option('--attention-outputs', 'also output the four attention maps a1..a4')
    .option('--input-size <HxW>', 'input height x width, for models that do not fix it (symbolic ONNX axes, Keras weights-only files)')
    .action(async (o: Options) => {
      const layout = o.layout.toUpperCase();
      if (layout !== 'NCHW' && layout !== 'NHWC') throw new UsageError(`--layout must be NCHW or NHWC, got '${o.layout}'`);
      const opset = parseInteger(o.opset, '--opset', { min: 11, max: 18 });
      const size = parseSize(o.inputSize);
      const { model, note } = await loadFloatModel(o.from, { size, purpose: 'an ONNX export' });
      const bytes = exportOnnx(model, { layout, foldBatchNorm: o.foldBatchnorm, opset, attentionOutputs: o.attentionOutputs });
      try {
        writeFileSync(o.onnx, bytes);
      } catch (e) {
        throw new FileError(o.onnx, `cannot write: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'WRITE_FAILED');
      }
      const { filters: F, height: H, width: W, channels: C } = model.arch;
      const inShape = layout === 'NCHW' ? `[1, ${C}, ${H}, ${W}]` : `[1, ${H}, ${W}, ${C}]`;
      const outShape = layout === 'NCHW' ? `[1, 1, ${H}, ${W}]` : `[1, ${H}, ${W}, 1]`;
      process.stdout.write(
        `read ${o.from}: F=${F} ${H}x${W}x${C}${note}\n` +
          `wrote ${o.onnx} (${bytes.length} bytes, opset ${opset}): input '${ONNX_INPUT_NAME}' float32 ${inShape} = pixel/255, ` +
          `output '${ONNX_OUTPUT_NAME}' ${outShape}${o.attentionOutputs ? ' and a1..a4' : ''}\n`,
      );
    });
}

function parseSize(s: string | undefined): { height: number; width: number } | undefined {
  if (s === undefined) return undefined;
  const m = /^(\d+)x(\d+)$/i.exec(s.trim());
  if (!m) throw new UsageError(`--input-size must be HEIGHTxWIDTH, e.g. 256x256; got '${s}'`);
  return { height: Number(m[1]), width: Number(m[2]) };
}
