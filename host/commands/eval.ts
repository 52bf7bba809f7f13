// `aunet eval`: the study's metrics of a model (int8 .aunet, or float .onnx for
// the int8-versus-float gap) on a BUSI-layout folder, per image at the original
// image size; a table or the JSON; optionally an HTML report.
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { UsageError } from '../../common/errors.js';
import { openPredictor } from '../evaluation/predictor.js';
import { evaluate, type EvalSummary } from '../evaluation/evaluate.js';
import { EvalReport } from '../evaluation/report.js';
import { parsePreprocessing } from './dataset.js';
import type { EngineKind } from '../load/engine-loader.js';
import { engineOption, threadsOption } from './support/engine-options.js';
import { splitOption } from './support/split-option.js';
import { parseNumber } from '../../common/cli-args.js';
import { readSplitManifest, type Split } from '../../models/datasets/split.js';
import { listBusi, filterSplit } from '../../models/datasets/busi.js';
import { PRESENCE_FRACTION, type LesionDecisionRule } from '../../models/lesion-decision.js';
import { fingerprintEntries, TWIN_THRESHOLD } from '../evaluation/near-duplicates.js';

interface EvalFlags {
  model: string;
  dataset: string;
  split: string;
  splitFile?: string;
  json?: boolean;
  report?: string;
  engine: EngineKind;
  threads?: number;
  resize: string;
  clahe?: string | boolean;
  threshold?: string;
  twinsOf?: string;
  twinsSplit: string;
}

export function register(program: Command): void {
  program
    .command('eval')
    .description("evaluate a model on a BUSI-layout dataset with the study's metrics (at the original image size)")
    .requiredOption('--model <file>', '.aunet (int8) or .onnx (float, run by onnxruntime-node)')
    .requiredOption('--dataset <dir>', 'BUSI-layout folder (benign/, malignant/, normal/)')
    .addOption(splitOption('--split <split>', 'test (never used for any choice), val (used for choices: epochs, thresholds), train or all', { all: true, default: 'val' }))
    .option('--split-file <file>', "split manifest (aunet dataset split); default: the shipped split of the project's BUSI images")
    .option('--json', 'print one JSON object instead of a table')
    .option('--report <dir>', 'write an HTML report with overlays, attention maps and Dice histograms')
    .addOption(engineOption('int8 engine: direct or chip', 'direct'))
    .addOption(threadsOption())
    .option('--resize <mode>', '.onnx only (an .aunet records its own): stretch or letterbox', 'stretch')
    .option('--clahe [clip:tiles]', '.onnx only: CLAHE before resizing (default 3:8)')
    .option('--threshold <p>', 'lesion-present threshold on the top-k mean probability (default: the model header\'s; an .onnx has none)')
    .option('--twins-of <dir>', 'count evaluated images with a near-duplicate in this BUSI folder, and report the figures without them')
    .addOption(splitOption('--twins-split <split>', 'with --twins-of: which split of that folder (train, val, test, all; by the split file)', { all: true, default: 'train' }))
    .action(async (o: EvalFlags) => {
      let decision: LesionDecisionRule | undefined;
      if (o.threshold !== undefined) {
        const t = parseNumber(o.threshold, '--threshold', { min: 0.5, max: 1 });
        decision = { rule: 'topk-mean', fraction: PRESENCE_FRACTION, threshold: t };
      }
      const twinsOf = o.twinsOf === undefined ? undefined : (() => {
        const ref = filterSplit(listBusi(o.twinsOf, o.twinsSplit === 'all' ? undefined : readSplitManifest(o.splitFile), o.splitFile), o.twinsSplit as Split | 'all');
        if (ref.length === 0) throw new UsageError(`--twins-of ${o.twinsOf}: no image in split '${o.twinsSplit}'`);
        return { label: `${o.twinsOf} (${o.twinsSplit}, ${ref.length} images)`, prints: fingerprintEntries(ref), threshold: TWIN_THRESHOLD };
      })();
      const predictor = await openPredictor(o.model, { engine: o.engine, threads: o.threads, preprocessing: parsePreprocessing(o.resize, o.clahe) });
      const report = o.report ? new EvalReport(o.report) : undefined;
      try {
        const { summary, results } = await evaluate(o.model, predictor, {
          dataset: o.dataset,
          split: o.split as Split | 'all',
          splitFile: o.splitFile,
          decision,
          twinsOf,
          progress: process.stderr.isTTY,
          onImage: report ? (r, v) => report.add(r, v) : undefined,
        });
        if (report) {
          const file = report.write(summary, results, `aunet eval: ${o.model} (${predictor.kind}) on ${resolve(o.dataset)}, split ${o.split}`);
          process.stderr.write(`report: ${file}\n`);
        }
        process.stdout.write(o.json ? JSON.stringify(summary) + '\n' : table(summary, predictor.kind, o.split));
      } finally {
        await predictor.close();
      }
    });
}

function table(s: EvalSummary, kind: string, split: string): string {
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(4) : '  n/a ');
  const lines = [
    `${s.model} (${kind}), ${s.images} images, split ${split}; metrics per image at the original size, then averaged`,
    'class        n    Dice    IoU     accuracy sensitivity specificity',
  ];
  for (const k of ['benign', 'malignant'] as const) {
    const c = s.classes[k];
    lines.push(`${k.padEnd(10)} ${String(c.n).padStart(3)}  ${f(c.dice)}  ${f(c.iou)}  ${f(c.accuracy)}   ${f(c.sensitivity)}      ${f(c.specificity)}`);
  }
  lines.push(`${'lesion'.padEnd(10)} ${String(s.lesion.n).padStart(3)}  ${f(s.lesion.dice)}  ${f(s.lesion.iou)}`);
  lines.push(`${'normal'.padEnd(10)} ${String(s.classes.normal.n).padStart(3)}  emptyRate ${f(s.classes.normal.emptyRate)} (predicted lesion area < 0.5% of the image)`);
  const d = s.decision;
  const ci = (c: [number, number]) => `95% CI ${c[0].toFixed(3)}-${c[1].toFixed(3)}`;
  lines.push(
    `lesion-present decision (top-k mean >= ${d.rule.threshold.toFixed(4)}), image level: sensitivity ${d.sensitivity.detected}/${d.sensitivity.n} = ${f(d.sensitivity.value)} (${ci(d.sensitivity.ci95)}), ` +
      `specificity (normal shown clean) ${d.specificity.clean}/${d.specificity.n} = ${f(d.specificity.value)} (${ci(d.specificity.ci95)}), AUC ${f(d.auc)}`,
    `shown to the operator (no outline on "no lesion"): lesion Dice ${f(d.shownLesion.dice)}, IoU ${f(d.shownLesion.iou)}`,
  );
  if (s.twins) {
    const t = s.twins;
    lines.push(`twins (correlation >= ${t.threshold}) in ${t.of}: ${t.withTwin} of ${s.images} images; without them: lesion ${t.twinFree.lesion.n} Dice ${f(t.twinFree.lesion.dice)} IoU ${f(t.twinFree.lesion.iou)}, ` +
      `shown Dice ${f(t.twinFree.decision.shownLesion.dice)}, normal clean ${t.twinFree.decision.specificity.clean}/${t.twinFree.decision.specificity.n}, sensitivity ${t.twinFree.decision.sensitivity.detected}/${t.twinFree.decision.sensitivity.n}`);
  }
  return lines.join('\n') + '\n';
}
