// The HTML report of a replay (`aunet replay --report DIR`): summary figures,
// lesion area / latency / drops over time as PNG line plots (common/plot.ts), and a thumbnail of
// every frame that differed from the golden outputs (frame in grey, this run's
// mask in red, the golden mask in green, overlap yellow).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeRgbPng, type RgbImage } from '../../common/image-io.js';
import { seriesPlot } from '../../common/plot.js';
import type { GoldenDiff } from './golden.js';
import { escapeHtml } from '../../common/html.js';

export interface FrameRecord {
  id: number;
  sourceIndex: number;
  /** fraction of the model grid that is lesion */
  lesionArea: number;
  /** preprocessing + inference, ms */
  latencyMs: number;
  /** cumulative drops when this frame was delivered */
  droppedSoFar: number;
}

export interface ReportInput {
  title: string;
  summary: Record<string, string | number>;
  frames: FrameRecord[];
  diffs: (GoldenDiff & { thumb?: RgbImage })[];
}

/** Write DIR/index.html and its PNGs; returns the HTML path. */
export function writeReport(dir: string, r: ReportInput): string {
  mkdirSync(join(dir, 'thumbs'), { recursive: true });
  const plots: [string, string, string, number[], [number, number, number]][] = [
    ['lesion-area.png', 'LESION AREA', 'Lesion area (fraction of the model grid)', r.frames.map((f) => f.lesionArea), [220, 60, 60]],
    ['latency.png', 'LATENCY MS', 'Latency per frame (ms, preprocessing + inference)', r.frames.map((f) => f.latencyMs), [40, 110, 220]],
    ['drops.png', 'DROPPED SO FAR', 'Frames dropped so far', r.frames.map((f) => f.droppedSoFar), [230, 150, 20]],
  ];
  const figs = plots.map(([file, title, caption, values, colour]) => {
    writeFileSync(join(dir, file), encodeRgbPng(seriesPlot(title, values, colour)));
    const lo = values.length ? Math.min(...values) : 0;
    const hi = values.length ? Math.max(...values) : 0;
    return `<figure><img src="${file}" alt="${escapeHtml(caption)}"><figcaption>${escapeHtml(caption)}: min ${fmt(lo)}, max ${fmt(hi)}, over ${values.length} frames (x = frame order)</figcaption></figure>`;
  });
  const rows = r.diffs.map((d) => {
    let img = '';
    if (d.thumb) {
      const name = `thumbs/frame-${d.sourceIndex}-${d.id}.png`;
      writeFileSync(join(dir, name), encodeRgbPng(d.thumb));
      img = `<img src="${name}" alt="frame ${d.sourceIndex}">`;
    }
    return `<tr><td>${d.sourceIndex}</td><td>${d.id}</td><td>${d.maskDiffers ? 'yes' : 'no'}</td><td>${d.attentionDiffers.map((a) => `a${a}`).join(' ') || '-'}</td><td>${d.dice.toFixed(4)}</td><td>${img}</td></tr>`;
  });
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(r.title)}</title>
<style>body{font-family:sans-serif;margin:2em;max-width:1000px}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}figure{margin:1em 0}img{image-rendering:pixelated}</style>
</head><body>
<h1>${escapeHtml(r.title)}</h1>
<table>${Object.entries(r.summary).map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(String(v))}</td></tr>`).join('')}</table>
${figs.join('\n')}
<h2>Frames that differ from the golden outputs (${r.diffs.length})</h2>
${r.diffs.length ? `<p>Red: this run's mask; green: golden mask; yellow: both.</p><table><tr><th>source frame</th><th>replay id</th><th>mask differs</th><th>attention differs</th><th>Dice vs golden</th><th>thumbnail</th></tr>${rows.join('')}</table>` : '<p>None.</p>'}
</body></html>
`;
  const file = join(dir, 'index.html');
  writeFileSync(file, html);
  return file;
}

/** Grey frame with this run's mask (red) and the golden mask (green) blended in. */
export function overlayThumb(grey: Uint8Array, width: number, height: number, mask: Uint8Array, golden?: Uint8Array): RgbImage {
  // model grids are small: enlarge by an integer factor to about 192 px, nearest neighbour
  const k = Math.max(1, Math.round(192 / Math.max(width, height)));
  const W = width * k;
  const data = new Uint8Array(W * height * k * 3);
  for (let y = 0; y < height * k; y++) {
    for (let x = 0; x < W; x++) {
      const i = Math.floor(y / k) * width + Math.floor(x / k);
      const o = (y * W + x) * 3;
      const g = grey[i];
      const m = mask[i] ? 1 : 0;
      const gm = golden?.[i] ? 1 : 0;
      data[o] = m ? (g + 255) >> 1 : g;
      data[o + 1] = gm ? (g + 255) >> 1 : g;
      data[o + 2] = m || gm ? g >> 1 : g;
    }
  }
  return { width: W, height: height * k, data };
}

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(3);
}
