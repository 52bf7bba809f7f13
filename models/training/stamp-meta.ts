// Records a training run's provenance and validation metrics in a .aunet
// header's meta (data, split, epochs, best epoch, calibration, float and int8
// validation metrics), so the shipped file says where it came from and how well
// it does. Run by train.sh after eval:
//   node --import tsx models/training/stamp-meta.ts MODEL.aunet RUN_DIR
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { readModel, writeModel } from '../format.js';

const [modelFile, run] = process.argv.slice(2);
if (!modelFile || !run) {
  process.stderr.write('usage: stamp-meta.ts MODEL.aunet RUN_DIR\n');
  process.exit(2);
}
const json = (f: string) => (existsSync(join(run, f)) ? JSON.parse(readFileSync(join(run, f), 'utf8')) : undefined);
const summary = json('run.json');
const calibration = json('calibration.json');
/** The figures of an eval summary (its twin-free part included), without per-image detail. */
const brief = (e: Record<string, unknown> | undefined) => e && { ...e, model: undefined };
const model = readModel(modelFile);
model.meta = {
  ...model.meta,
  training: summary && {
    data: summary.data,
    split: summary.split,
    epochs: summary.epochs,
    bestEpoch: summary.best?.epoch,
    minutes: Math.round(summary.minutes * 10) / 10,
    recipe: summary.recipe,
    torch: summary.torch,
  },
  selection: calibration?.choice && { ...calibration.choice, targetEmptyRate: calibration.targetEmptyRate },
  // val: where every choice was made (epoch, bias, thresholds); test: the leak-free split no choice saw
  metrics: Object.fromEntries(
    ['val', 'test'].map((split) => [split, { float: brief(json(`eval-float-${split}.json`)), int8: brief(json(`eval-int8-${split}.json`)) }]),
  ),
};
writeModel(modelFile, model);
process.stdout.write(`stamped ${modelFile} with the training run ${run}\n`);
