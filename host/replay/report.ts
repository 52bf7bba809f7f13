// The HTML report of a replay (`aunet replay --report DIR`): summary figures,
// lesion area / latency / drops over time as PNG line plots with labelled axes
// (common/plot.ts), the frames that failed a golden check, and thumbnails of the
// first MAX_THUMBS differing frames (frame in grey, this run's mask in red, the
// golden mask in green, overlap yellow), saying how many of them they cover.
// Several sources in one run: one page each, and an index page linking them.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeRgbPng, type RgbImage } from '../../common/image-io.js';
import { seriesPlot } from '../../common/plot.js';
import type { GoldenDiff, GoldenMissing } from './golden.js';

/** Thumbnails kept per source: enough to see a pattern, bounded for long replays. */
export const MAX_THUMBS = 50;
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
  /** golden frames this run did not check, and why */
  missing?: GoldenMissing[];
  /** why the case failed, when it did */
  failure?: string;
  warnings?: string[];
}

/** Write DIR/index.html and its PNGs; returns the HTML path. */
export function writeReport(dir: string, r: ReportInput): string {
  mkdirSync(join(dir, 'thumbs'), { recursive: true });
  const plots: [string, string, string, string, number[], [number, number, number]][] = [
    ['lesion-area.png', 'LESION AREA', 'FRACTION', 'Lesion area (fraction of the model grid)', r.frames.map((f) => f.lesionArea), [220, 60, 60]],
    ['latency.png', 'LATENCY', 'MS', 'Latency per frame (ms, preprocessing + inference)', r.frames.map((f) => f.latencyMs), [40, 110, 220]],
    ['drops.png', 'DROPPED SO FAR', 'FRAMES', 'Frames dropped so far', r.frames.map((f) => f.droppedSoFar), [230, 150, 20]],
  ];
  const figs = plots.map(([file, title, yTitle, caption, values, colour]) => {
    writeFileSync(join(dir, file), encodeRgbPng(seriesPlot(title, values, colour, { x: 'FRAME (REPLAY ORDER)', y: yTitle })));
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
  const thumbs = r.diffs.filter((d) => d.thumb).length;
  const thumbNote = r.diffs.length > thumbs ? `Thumbnails of the first ${thumbs} of the ${r.diffs.length} differing frames; the others are listed without one.` : `Thumbnails of all ${thumbs} differing frames.`;
  const missing = r.missing ?? [];
  const missingRows = missing.map((m) => `<tr><td>${m.sourceIndex}</td><td>${m.id}</td><td>${escapeHtml(m.why)}</td></tr>`).join('');
  const failure = r.failure ? `<p class="fail"><strong>FAILED:</strong> ${escapeHtml(r.failure)}</p>` : '';
  const warnings = r.warnings?.length ? `<h2>Warnings</h2><ul>${r.warnings.map((w) => `<li>${escapeHtml(w)}</li>`).join('')}</ul>` : '';
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(r.title)}</title>
${STYLE}
</head><body>
<h1>${escapeHtml(r.title)}</h1>
${failure}
<table>${Object.entries(r.summary).map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(String(v))}</td></tr>`).join('')}</table>
${warnings}
${figs.join('\n')}
<h2>Frames that differ from the golden outputs (${r.diffs.length})</h2>
${r.diffs.length ? `<p>${thumbNote} Red: this run's mask; green: golden mask; yellow: both.</p><table><tr><th>source frame</th><th>replay id</th><th>mask differs</th><th>attention differs</th><th>Dice vs golden</th><th>thumbnail</th></tr>${rows.join('')}</table>` : '<p>None.</p>'}
${missing.length ? `<h2>Golden frames not checked (${missing.length})</h2><table><tr><th>source frame</th><th>replay id</th><th>why</th></tr>${missingRows}</table>` : ''}
</body></html>
`;
  const file = join(dir, 'index.html');
  writeFileSync(file, html);
  return file;
}

const STYLE = '<style>body{font-family:sans-serif;margin:2em;max-width:1000px}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}figure{margin:1em 0}img{image-rendering:pixelated}.fail{color:#b00}</style>';

/** The index page of a run over several sources: one row per source, linking its page. */
export function writeReportIndex(dir: string, title: string, cases: { name: string; spec: string; passed: boolean; detail: string }[]): string {
  mkdirSync(dir, { recursive: true });
  const failed = cases.filter((c) => !c.passed).length;
  const rows = cases.map((c) => `<tr><td><a href="${encodeURI(c.name)}/index.html">${escapeHtml(c.spec)}</a></td><td class="${c.passed ? '' : 'fail'}">${c.passed ? 'passed' : 'FAILED'}</td><td>${escapeHtml(c.detail)}</td></tr>`).join('');
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
${STYLE}
</head><body>
<h1>${escapeHtml(title)}</h1>
<p>${cases.length} source(s), ${failed} failed.</p>
<table><tr><th>source</th><th>result</th><th>detail</th></tr>${rows}</table>
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
