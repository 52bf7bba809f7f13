// `aunet eval --report DIR`: an HTML page with the best and worst lesion
// images (ground truth green, prediction red) next to their four attention
// maps, and a Dice histogram per class, all as PNG files beside index.html.
import { mkdirSync, readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeRgbPng, type RgbImage } from '../../common/image-io.js';
import { drawContour, greyToRgb, overlayHeatmap, resizeNearest } from '../../common/colormap.js';
import { resizeBack } from '../../camera/preprocess.js';
import type { EvalSummary, ImageResult, ImageViews } from './evaluate.js';
import { escapeHtml } from '../../common/html.js';

const KEEP = 4;

interface Kept {
  r: ImageResult;
  files: string[];
}

/** Collects the best and worst images while eval runs, then writes the page. */
export class EvalReport {
  private best: Kept[] = [];
  private worst: Kept[] = [];
  private serial = 0;
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  add(r: ImageResult, v: ImageViews): void {
    if (r.entry.cls === 'normal') return;
    const qualifiesBest = this.best.length < KEEP || r.dice > this.best[this.best.length - 1].r.dice;
    const qualifiesWorst = this.worst.length < KEEP || r.dice < this.worst[this.worst.length - 1].r.dice;
    if (!qualifiesBest && !qualifiesWorst) return;
    const k: Kept = { r, files: this.render(r, v) };
    if (qualifiesBest) this.best = [...this.best, k].sort((a, b) => b.r.dice - a.r.dice).slice(0, KEEP);
    if (qualifiesWorst) this.worst = [...this.worst, k].sort((a, b) => a.r.dice - b.r.dice).slice(0, KEEP);
  }

  private render(r: ImageResult, v: ImageViews): string[] {
    const id = `img${this.serial++}`;
    const { width, height } = r;
    const picture = { width, height, data: v.image };
    const files: string[] = [];
    const save = (name: string, img: RgbImage) => {
      writeRgbPng(join(this.dir, name), img);
      files.push(name);
    };
    const overlay = greyToRgb(picture);
    drawContour(overlay, v.truth, [0, 255, 64]);
    drawContour(overlay, v.pred, [255, 40, 40]);
    save(`${id}-overlay.png`, overlay);
    const mw = v.modelWidth;
    const mh = v.modelHeight;
    const toOriginal = (m: { width: number; height: number; data: Uint8Array }) =>
      resizeBack(resizeNearest(m, mw, mh).data, mw, mh, v.placement);
    save(`${id}-prob.png`, overlayHeatmap(picture, toOriginal({ width: mw, height: mh, data: v.prob })));
    (v.attention ?? []).forEach((a, i) => save(`${id}-a${i + 1}.png`, overlayHeatmap(picture, toOriginal(a))));
    return files;
  }

  write(summary: EvalSummary, results: ImageResult[], title: string): string {
    const hist: string[] = [];
    for (const cls of ['benign', 'malignant'] as const) {
      const d = results.filter((r) => r.entry.cls === cls).map((r) => r.dice);
      const name = `dice-hist-${cls}.png`;
      writeRgbPng(join(this.dir, name), histogram(d, 10));
      hist.push(`<figure><img src="${name}" width="320"><figcaption>${cls}: Dice per image, 10 bins over [0, 1] (n = ${d.length})</figcaption></figure>`);
    }
    const f = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : 'n/a');
    const row = (k: Kept) => `<tr><td>${escapeHtml(k.r.entry.name)}<br>Dice ${f(k.r.dice)}, IoU ${f(k.r.iou)}</td>${k.files
      .map((file) => `<td><img src="${file}" title="${file}" alt="${file}"></td>`)
      .join('')}</tr>`;
    const c = summary.classes;
    const html = `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:sans-serif;margin:1em}td{vertical-align:top;padding:2px;font-size:12px}table{border-collapse:collapse}
/* picture rows share the window's width (fixed layout): six pictures never push the page wider than a 1280 px window */
table.pictures{width:100%;table-layout:fixed}table.pictures td:first-child{width:10em;overflow-wrap:anywhere}table.pictures img{width:100%;height:auto;max-height:240px;object-fit:contain}</style></head><body>
<h1>${escapeHtml(title)}</h1>
<table border="1"><tr><th></th><th>n</th><th>Dice</th><th>IoU</th><th>accuracy</th><th>sensitivity</th><th>specificity</th></tr>
${(['benign', 'malignant'] as const).map((k) => `<tr><td>${k}</td><td>${c[k].n}</td><td>${f(c[k].dice)}</td><td>${f(c[k].iou)}</td><td>${f(c[k].accuracy)}</td><td>${f(c[k].sensitivity)}</td><td>${f(c[k].specificity)}</td></tr>`).join('\n')}
<tr><td>lesion (benign + malignant)</td><td>${summary.lesion.n}</td><td>${f(summary.lesion.dice)}</td><td>${f(summary.lesion.iou)}</td><td colspan="3"></td></tr>
<tr><td>normal</td><td>${c.normal.n}</td><td colspan="5">emptyRate (predicted area &lt; 0.5%): ${f(c.normal.emptyRate)}</td></tr></table>
<h2>Dice histograms</h2>${hist.join('\n')}
<p>Columns: overlay (ground truth green, prediction red), probability, attention maps a1 (coarsest) to a4, each over the image.</p>
<h2>Best ${KEEP}</h2><table class="pictures">${this.best.map(row).join('\n')}</table>
<h2>Worst ${KEEP}</h2><table class="pictures">${this.worst.map(row).join('\n')}</table>
</body></html>
`;
    // pictures of images that were displaced from best/worst while eval ran
    const kept = new Set([...this.best, ...this.worst].flatMap((k) => k.files));
    for (const f of readdirSync(this.dir)) if (/^img\d+-.*\.png$/.test(f) && !kept.has(f)) unlinkSync(join(this.dir, f));
    const file = join(this.dir, 'index.html');
    writeFileSync(file, html);
    return file;
  }
}

/** A bar chart of values in [0, 1] as an RGB picture (labels are in the HTML). */
export function histogram(values: number[], bins: number): RgbImage {
  const W = 320;
  const H = 200;
  const data = new Uint8Array(W * H * 3).fill(255);
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) if (Number.isFinite(v)) counts[Math.min(bins - 1, Math.max(0, Math.floor(v * bins)))]++;
  const top = Math.max(1, ...counts);
  const bw = Math.floor((W - 20) / bins);
  for (let b = 0; b < bins; b++) {
    const h = Math.round(((H - 20) * counts[b]) / top);
    for (let y = H - 10 - h; y < H - 10; y++) for (let x = 10 + b * bw + 1; x < 10 + (b + 1) * bw - 1; x++) data.set([60, 110, 200], (y * W + x) * 3);
  }
  for (let x = 10; x < W - 10; x++) data.set([0, 0, 0], ((H - 10) * W + x) * 3); // axis
  return { width: W, height: H, data };
}
