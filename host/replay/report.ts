// The HTML report of a replay (`aunet replay --report DIR`): summary figures,
// lesion area / latency / drops over time as PNG line plots, and a thumbnail of
// every frame that differed from the golden outputs (frame in grey, this run's
// mask in red, the golden mask in green, overlap yellow).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeRgbPng, type RgbImage } from '../../common/image-io.js';
import type { GoldenDiff } from './golden.js';

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
  const plots: [string, string, number[], [number, number, number]][] = [
    ['lesion-area.png', 'Lesion area (fraction of the model grid)', r.frames.map((f) => f.lesionArea), [220, 60, 60]],
    ['latency.png', 'Latency per frame (ms, preprocessing + inference)', r.frames.map((f) => f.latencyMs), [40, 110, 220]],
    ['drops.png', 'Frames dropped so far', r.frames.map((f) => f.droppedSoFar), [230, 150, 20]],
  ];
  const figs = plots.map(([file, caption, values, colour]) => {
    writeFileSync(join(dir, file), encodeRgbPng(linePlot(values, colour)));
    const lo = values.length ? Math.min(...values) : 0;
    const hi = values.length ? Math.max(...values) : 0;
    return `<figure><img src="${file}" alt="${esc(caption)}"><figcaption>${esc(caption)}: min ${fmt(lo)}, max ${fmt(hi)}, over ${values.length} frames (x = frame order)</figcaption></figure>`;
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
<html lang="en"><head><meta charset="utf-8"><title>${esc(r.title)}</title>
<style>body{font-family:sans-serif;margin:2em;max-width:1000px}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}figure{margin:1em 0}img{image-rendering:pixelated}</style>
</head><body>
<h1>${esc(r.title)}</h1>
<table>${Object.entries(r.summary).map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(String(v))}</td></tr>`).join('')}</table>
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

/** A plain line plot: white background, grey frame and mid line, the series in colour. */
export function linePlot(values: number[], colour: [number, number, number], width = 640, height = 160): RgbImage {
  const data = new Uint8Array(width * height * 3).fill(255);
  const set = (x: number, y: number, c: readonly number[]) => {
    if (x < 0 || y < 0 || x >= width || y >= height) return;
    const i = (y * width + x) * 3;
    data[i] = c[0];
    data[i + 1] = c[1];
    data[i + 2] = c[2];
  };
  const pad = 8;
  const grey = [190, 190, 190];
  for (let x = pad; x < width - pad; x++) {
    set(x, pad, grey);
    set(x, height - pad, grey);
    if (x % 4 === 0) set(x, height >> 1, grey);
  }
  for (let y = pad; y <= height - pad; y++) {
    set(pad, y, grey);
    set(width - pad - 1, y, grey);
  }
  if (values.length === 0) return { width, height, data };
  const lo = Math.min(0, ...values);
  const hi = Math.max(...values);
  const span = hi - lo || 1;
  const px = (i: number) => pad + Math.round(((values.length === 1 ? 0.5 : i / (values.length - 1)) * (width - 2 * pad - 1)));
  const py = (v: number) => height - pad - Math.round(((v - lo) / span) * (height - 2 * pad));
  for (let i = 0; i < values.length; i++) {
    const x0 = px(i), y0 = py(values[i]);
    const x1 = i + 1 < values.length ? px(i + 1) : x0, y1 = i + 1 < values.length ? py(values[i + 1]) : y0;
    // Bresenham between consecutive points, two pixels thick
    const steps = Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0), 1);
    for (let s = 0; s <= steps; s++) {
      const x = Math.round(x0 + ((x1 - x0) * s) / steps);
      const y = Math.round(y0 + ((y1 - y0) * s) / steps);
      set(x, y, colour);
      set(x, y + 1, colour);
    }
  }
  return { width, height, data };
}

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(3);
}

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);
}
