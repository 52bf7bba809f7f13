// Val against test for a set of training runs, as a picture for docs/models.md: each run's float lesion Dice on the
// val split (which makes every choice) and on the test split (which makes none), both as the difference from a
// reference run (the shipped model's), one marker per run. Points along the diagonal would mean val predicts test;
// a cloud means a choice among these runs by val is a choice by noise. Reads the eval-float-{val,test}.json files
// the recipe writes; draws with the product's one plot renderer.
//   node --import tsx models/training/plot-sweep.ts OUT.png REFERENCE_RUN_DIR RUN_DIR [RUN_DIR...]
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Canvas, drawPanel, type RGB } from '../../common/plot.js';
import { writeRgbPng } from '../../common/image-io.js';

const [out, reference, ...runs] = process.argv.slice(2);
if (!out || !reference || runs.length === 0) {
  process.stderr.write('usage: plot-sweep.ts OUT.png REFERENCE_RUN_DIR RUN_DIR [RUN_DIR...]\n');
  process.exit(2);
}
const dice = (run: string, split: string) =>
  (JSON.parse(readFileSync(join(run, `eval-float-${split}.json`), 'utf8')) as { lesion: { dice: number } }).lesion.dice;
const [refVal, refTest] = [dice(reference, 'val'), dice(reference, 'test')];
// colour by the kind of run, from its name (sweep.py's: b = recipe, d = distilled, h = hard negatives, c = second cycle)
const KINDS: [RegExp, string, RGB][] = [
  [/-c160/, 'SECOND CYCLE AT 160', [148, 103, 189]],
  [/-d/, 'DISTILLED F48', [214, 39, 40]],
  [/-h/, 'HARD NEGATIVES', [44, 160, 44]],
  [/-b128/, 'RECIPE AT 128', [31, 119, 180]],
  [/-b160/, 'RECIPE AT 160', [255, 127, 14]],
];
const points = runs.map((r) => {
  const kind = KINDS.find(([re]) => re.test(basename(r)));
  return { x: dice(r, 'val') - refVal, y: dice(r, 'test') - refTest, kind: kind?.[1] ?? 'OTHER', colour: kind?.[2] ?? ([120, 120, 120] as RGB) };
});
const lo = Math.floor(Math.min(0, ...points.map((p) => p.x)) * 100) / 100;
const hi = Math.ceil(Math.max(0, ...points.map((p) => p.x)) * 100) / 100;
const xLabels = Array.from({ length: Math.round((hi - lo) * 100) + 1 }, (_, i) => lo + i / 100).map((at) => ({ at, label: at.toFixed(2) }));
// the scale's ends half a tick outside the outer ticks (two x positions no series has a value at), then the shipped
// model at 0 and one series per run (every other value NaN): markers without lines between runs, a legend entry per kind
const x = [lo - 0.005, hi + 0.005, 0, ...points.map((p) => p.x)];
const only = (i: number, v: number) => x.map((_, j) => (j === i ? v : NaN));
const series = [
  { values: only(2, 0), colour: [0, 0, 0] as RGB, label: 'SHIPPED' },
  ...points.map((p, i) => ({
    values: only(i + 3, p.y),
    colour: p.colour,
    label: points.findIndex((q) => q.kind === p.kind) === i ? p.kind : undefined,
  })),
];
const cv = new Canvas(1100, 460);
drawPanel(cv, 0, 20, 1100, 430, {
  title: 'LESION DICE MINUS THE SHIPPED MODEL\'S: ON TEST (123 IMAGES, NO CHOICE) AGAINST ON VAL',
  x,
  xLabels,
  xTitle: 'ON VAL (94 IMAGES, EVERY CHOICE)',
  series,
});
cv.text(10, 6, `${runs.length} TRAINING RUNS AND THE SHIPPED MODEL, FLOAT NETWORKS, BOX RULE AT 0.5`, [80, 80, 80]);
writeRgbPng(out, cv);
process.stdout.write(`wrote ${out}\n`);
