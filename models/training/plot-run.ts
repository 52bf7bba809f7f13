// Training curves of a run, as a picture for docs/models.md: validation lesion
// Dice, normal images' emptyRate and presence AUC (EMA weights, val split), and
// the learning rate, per epoch over one or more cycles (a warm-started cycle
// continues the epoch count of the run it started from). Reads the run.json
// files train.py writes; draws with the product's one plot renderer.
//   node --import tsx models/training/plot-run.ts OUT.png RUN_DIR [RUN_DIR...]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Canvas, drawPanel } from '../../common/plot.js';
import { writeRgbPng } from '../../common/image-io.js';

interface Epoch {
  lr: number;
  valDice: number;
  valEmptyRate: number;
  valPresenceAuc?: number;
}

const [out, ...runs] = process.argv.slice(2);
if (!out || runs.length === 0) {
  process.stderr.write('usage: plot-run.ts OUT.png RUN_DIR [RUN_DIR...]\n');
  process.exit(2);
}
const cycles = runs.map((r) => (JSON.parse(readFileSync(join(r, 'run.json'), 'utf8')) as { history: Epoch[] }).history);
const history = cycles.flat();
const x = history.map((_, i) => i + 1);
const step = history.length > 60 ? 10 : 5;
const xLabels = x.filter((e) => e === 1 || e % step === 0).map((e) => ({ at: e, label: String(e) }));
// where each cycle after the first starts: a tick of its own (C2, C3, ...)
let start = 0;
cycles.slice(0, -1).forEach((c, i) => {
  start += c.length;
  const at = start + 1;
  // the cycle's tick replaces round-number ticks its label would overlap
  const near = Math.max(2, Math.round(history.length / 25));
  for (let j = xLabels.length - 1; j >= 0; j--) if (Math.abs(xLabels[j].at - at) < near) xLabels.splice(j, 1);
  xLabels.push({ at, label: `C${i + 2}` });
});
const cv = new Canvas(1000, 420);
drawPanel(cv, 0, 20, 600, 390, {
  title: 'VALIDATION (EMA WEIGHTS)',
  x,
  xLabels,
  xTitle: 'EPOCH',
  series: [
    { values: history.map((h) => h.valDice), colour: [31, 119, 180], label: 'LESION DICE', markers: false },
    { values: history.map((h) => h.valEmptyRate), colour: [255, 127, 14], label: 'NORMAL EMPTY', markers: false },
    { values: history.map((h) => h.valPresenceAuc ?? NaN), colour: [44, 160, 44], label: 'PRESENCE AUC', markers: false },
  ],
});
drawPanel(cv, 600, 20, 400, 390, {
  title: 'LEARNING RATE (X 1000)',
  x,
  xLabels,
  xTitle: 'EPOCH',
  series: [{ values: history.map((h) => h.lr * 1000), colour: [120, 120, 120], markers: false }],
});
cv.text(10, 6, `BUSI-LITE TRAINING: ${cycles.map((c, i) => `CYCLE ${i + 1} ${c.length} EPOCHS`).join(', ')}`, [80, 80, 80]);
writeRgbPng(out, cv);
process.stdout.write(`wrote ${out}\n`);
