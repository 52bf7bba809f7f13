// `aunet decision calibrate`: choose the lesion-present threshold of an int8
// model on a split its figures are not measured on (by default val), and keep
// it in the model header (meta.decision), where the box, eval and the monitor
// read it. The threshold is the highest that keeps the required share of lesion
// images called "lesion" (models/lesion-decision.ts); what it then leaves clean
// on normal images is reported with its 95% interval, since a split holds few.
import type { Command } from 'commander';
import { readModel, writeModel } from '../../models/format.js';
import { chooseThreshold, MASK_ONLY_RULE, PRESENCE_FRACTION, wilson, type LesionDecisionRule } from '../../models/lesion-decision.js';
import type { Split } from '../../models/datasets/split.js';
import { UsageError } from '../../common/errors.js';
import { parseNumber } from '../../common/cli-args.js';
import { splitOption } from './support/split-option.js';
import { provenanceName } from '../../common/provenance.js';
import { openPredictor } from '../evaluation/predictor.js';
import { evaluate } from '../evaluation/evaluate.js';

interface Flags {
  model: string;
  dataset: string;
  split: string;
  splitFile?: string;
  sensitivity: string;
  out?: string;
}

export function register(program: Command): void {
  const d = program.command('decision').description('the lesion-present decision of a model');
  d.command('calibrate')
    .description('choose the lesion-present threshold on a calibration split and store it in the model header')
    .requiredOption('--model <file>', 'int8 model (.aunet)')
    .requiredOption('--dataset <dir>', 'BUSI-layout folder')
    .addOption(splitOption('--split <split>', 'calibration split (never the one figures are reported on)', { default: 'val' }))
    .option('--split-file <file>', "split manifest; default: the shipped split of the project's BUSI images")
    .option('--sensitivity <s>', 'share of lesion images of the split that must be called "lesion"', '0.97')
    .option('--out <file>', 'write the model here instead of updating --model')
    .action(async (o: Flags) => {
      const target = parseNumber(o.sensitivity, '--sensitivity', { above: 0, max: 1 });
      if (!/\.aunet$/i.test(o.model)) throw new UsageError(`--model must be an int8 .aunet (the decision is calibrated on what the box computes), got '${o.model}'`);
      const predictor = await openPredictor(o.model, { engine: 'direct' });
      const scan: LesionDecisionRule = { ...MASK_ONLY_RULE, fraction: PRESENCE_FRACTION, threshold: 0.5 };
      let results;
      try {
        ({ results } = await evaluate(o.model, predictor, { dataset: o.dataset, split: o.split as Split, splitFile: o.splitFile, decision: scan, progress: process.stderr.isTTY }));
      } finally {
        await predictor.close();
      }
      const lesion = results.filter((r) => r.entry.cls !== 'normal').map((r) => r.decision.score);
      const normal = results.filter((r) => r.entry.cls === 'normal').map((r) => r.decision.score);
      const c = chooseThreshold(lesion, normal, target);
      const clean = Math.round(c.specificity * c.normal);
      const detected = Math.round(c.sensitivity * c.lesion);
      const rule: LesionDecisionRule = {
        rule: 'topk-mean',
        fraction: PRESENCE_FRACTION,
        threshold: c.threshold,
        calibration: {
          dataset: provenanceName(o.dataset),
          split: o.split,
          splitFile: o.splitFile ? provenanceName(o.splitFile) : 'models/datasets/busi-split.json',
          targetSensitivity: target,
          sensitivity: { detected, n: c.lesion, ci95: wilson(detected, c.lesion) },
          specificity: { clean, n: c.normal, ci95: wilson(clean, c.normal) },
          how: 'highest threshold on the 1/256 grid keeping the target share of lesion images at or above it',
        },
      };
      const model = readModel(o.model);
      model.meta = { ...model.meta, decision: rule };
      writeModel(o.out ?? o.model, model);
      process.stdout.write(
        `threshold ${c.threshold.toFixed(4)} (top-k mean probability, k = ${PRESENCE_FRACTION * 100}% of pixels) on ${o.split}: ` +
          `lesion images called lesion ${detected}/${c.lesion}, normal images left clean ${clean}/${c.normal} ` +
          `(95% CI ${wilson(clean, c.normal).map((v) => v.toFixed(3)).join('-')}); wrote ${o.out ?? o.model}\n`,
      );
    });
}
