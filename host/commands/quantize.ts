// aunet quantize: float model (ONNX or Keras) -> int8 .aunet, calibrated on
// an image folder or on synthetic phantom frames, with a progress bar.
import type { Command } from 'commander';
import { resolve } from 'node:path';
import cliProgress from 'cli-progress';
import { quantizeModel, CALIBRATION_METHODS, DEFAULT_METHOD, DEFAULT_PERCENTILE, type CalibrationMethod } from '../../models/quantizer.js';
import { writeModel } from '../../models/format.js';
import { UsageError } from '../../common/errors.js';
import { parseInteger, parseNumber } from '../../common/cli-args.js';
import { loadFloatModel } from '../load/float-model-loader.js';
import { imageCalibration, phantomCalibration } from './support/model-inputs.js';

interface Options {
  from: string;
  calib?: string;
  calibPhantom?: string;
  calibLimit?: string;
  method: string;
  percentile?: string;
  out: string;
  progress: boolean;
}

export function register(program: Command): void {
  program
    .command('quantize')
    .description('quantize an ONNX or Keras float model to an int8 .aunet file')
    .requiredOption('--from <model>', 'float model: .onnx or .h5')
    .option('--calib <dir>', 'calibration images (PNG/JPEG, searched recursively; BUSI masks X_mask.png, X_mask_1.png, ... skipped)')
    .option('--calib-phantom <n>', 'calibrate on N synthetic phantom frames instead of images')
    .option('--calib-limit <n>', 'with --calib: use N evenly spaced images of the folder')
    .option('--method <m>', `activation ranges: ${CALIBRATION_METHODS.join(', ')}`, DEFAULT_METHOD)
    .option('--percentile <p>', `with --method percentile: keep values up to the p-th percentile (default ${DEFAULT_PERCENTILE})`)
    .requiredOption('--out <file>', 'output .aunet file')
    .option('--no-progress', 'no progress bar')
    .action(async (o: Options) => {
      if ((o.calib === undefined) === (o.calibPhantom === undefined)) throw new UsageError('give exactly one of --calib DIR or --calib-phantom N');
      if (!CALIBRATION_METHODS.includes(o.method as CalibrationMethod)) throw new UsageError(`--method must be one of ${CALIBRATION_METHODS.join(', ')}, got '${o.method}'`);
      const percentile = parseNumber(o.percentile, '--percentile', { above: 50, max: 100 });
      if (percentile !== undefined && o.method !== 'percentile') throw new UsageError('--percentile needs --method percentile');
      const { model } = await loadFloatModel(o.from);
      const { arch, preprocessing } = model;
      let frames: Uint8Array[];
      let calibration: Record<string, unknown>;
      if (o.calib !== undefined) {
        const limit = parseInteger(o.calibLimit, '--calib-limit', { min: 1 });
        const c = imageCalibration(o.calib, arch, preprocessing, limit);
        frames = c.frames;
        calibration = { source: 'images', dir: resolve(o.calib), images: c.files.length };
      } else {
        const n = parseInteger(o.calibPhantom as string, '--calib-phantom', { min: 1 });
        frames = await phantomCalibration(n, arch, preprocessing);
        calibration = { source: 'phantom', seeds: `1..${n}` };
      }
      const bar = o.progress ? new cliProgress.SingleBar({ format: 'calibrating [{bar}] {value}/{total} frames | {eta_formatted} left', stream: process.stderr }, cliProgress.Presets.shades_classic) : undefined;
      bar?.start(frames.length, 0);
      const q = quantizeModel(model, frames, {
        method: o.method as CalibrationMethod,
        percentile,
        calibration,
        onProgress: (done) => bar?.update(done),
      });
      bar?.stop();
      writeModel(o.out, q);
      process.stdout.write(`wrote ${o.out}: F=${arch.filters} ${arch.height}x${arch.width}x${arch.channels}, ${frames.length} calibration frames (${o.method})\n`);
    });
}
