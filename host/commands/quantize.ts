// aunet quantize: float model (ONNX or Keras) -> int8 .aunet, calibrated on
// an image folder or on synthetic phantom frames, with a progress bar.
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { quantizeModel, CALIBRATION_METHODS, DEFAULT_PERCENTILE, type CalibrationMethod } from '../../models/quantizer.js';
import { autoQuantize, type Int8Probe } from '../../models/calibration-search.js';
import type { QModel } from '../../models/qmodel.js';
import { provenanceName } from '../../common/provenance.js';
import { writeModel } from '../../models/format.js';
import { UsageError } from '../../common/errors.js';
import { parseInteger, parseNumber } from '../../common/cli-args.js';
import { loadFloatModel } from '../load/float-model-loader.js';
import { imageCalibration, phantomCalibration } from './support/model-inputs.js';
import { loadEngine } from '../load/engine-loader.js';

/** 'auto' searches ranges and equalisation against the network's output (models/calibration-search.ts); the rest fit each tensor alone. */
const METHODS = ['auto', ...CALIBRATION_METHODS] as const;
/** The direct WASM engine, as the search's measure of what the box will compute. */
const probe: Int8Probe = async (q: QModel, frames: Uint8Array[]) => {
  const { engine } = await loadEngine(q, { engine: 'direct' });
  return frames.map((f) => engine.run(f).prob.data);
};

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
    .option('--method <m>', `activation ranges: ${METHODS.join(', ')} (auto: searched against the network's output with the int8 engine)`, 'auto')
    .option('--percentile <p>', `with --method percentile: keep values up to the p-th percentile (default ${DEFAULT_PERCENTILE})`)
    .requiredOption('--out <file>', 'output .aunet file')
    .option('--no-progress', 'no progress bar')
    .action(async (o: Options) => {
      if ((o.calib === undefined) === (o.calibPhantom === undefined)) throw new UsageError('give exactly one of --calib DIR or --calib-phantom N');
      if (!(METHODS as readonly string[]).includes(o.method)) throw new UsageError(`--method must be one of ${METHODS.join(', ')}, got '${o.method}'`);
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
        calibration = { source: 'images', dir: provenanceName(o.calib), images: c.files.length };
      } else {
        const n = parseInteger(o.calibPhantom as string, '--calib-phantom', { min: 1 });
        frames = await phantomCalibration(n, arch, preprocessing);
        calibration = { source: 'phantom', seeds: `1..${n}` };
      }
      const bar = o.progress ? new cliProgress.SingleBar({ format: '{stage} [{bar}] {value}/{total} | {eta_formatted} left', stream: process.stderr }, cliProgress.Presets.shades_classic) : undefined;
      let q: QModel;
      let summary = o.method;
      if (o.method === 'auto') {
        let shown = '';
        const r = await autoQuantize(model, frames, probe, {
          calibration,
          onStage: (stage, done, total) => {
            if (total === 0) return void (o.progress && process.stderr.write(`  ${stage}\n`));
            if (stage !== shown) {
              bar?.stop();
              bar?.start(total, done, { stage });
              shown = stage;
            }
            bar?.update(done, { stage });
          },
        });
        bar?.stop();
        q = r.model;
        const ob = r.record.objective;
        summary = `auto: equalisation ${r.record.equalize}, start ${r.record.start}, ${Object.keys(r.record.changed).length} tensors changed; objective ${ob.start.toFixed(4)} -> ${ob.end.toFixed(4)} (minmax ${ob.minmax.toFixed(4)}, percentile ${ob.percentile.toFixed(4)}, mse ${ob.mse.toFixed(4)}), ${r.record.evaluations} engine runs`;
      } else {
        bar?.start(frames.length, 0, { stage: 'calibrating' });
        q = quantizeModel(model, frames, {
          method: o.method as CalibrationMethod,
          percentile,
          calibration,
          onProgress: (done) => bar?.update(done),
        });
        bar?.stop();
      }
      writeModel(o.out, q);
      process.stdout.write(`wrote ${o.out}: F=${arch.filters} ${arch.height}x${arch.width}x${arch.channels}, ${frames.length} calibration frames (${summary})\n`);
    });
}
