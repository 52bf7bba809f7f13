// The one line-plot renderer of the product, into an RGB buffer (`aunet chip
// sweep`, the replay report): panels with a frame, ticks, labels in a built-in
// 3x5 pixel font (scaled), one or more polylines with markers. Hand-written
// because the plots are simple and the project writes PNGs with fast-png
// already; a charting library would pull in a canvas implementation for a few
// line charts.
import type { RgbImage } from './image-io.js';

export type RGB = [number, number, number];

// 3x5 glyphs, each row 3 bits (MSB left), for the characters the plots use.
const FONT: Record<string, number[]> = {
  '0': [7, 5, 5, 5, 7], '1': [2, 6, 2, 2, 7], '2': [7, 1, 7, 4, 7], '3': [7, 1, 7, 1, 7], '4': [5, 5, 7, 1, 1],
  '5': [7, 4, 7, 1, 7], '6': [7, 4, 7, 5, 7], '7': [7, 1, 1, 2, 2], '8': [7, 5, 7, 5, 7], '9': [7, 5, 7, 1, 7],
  '.': [0, 0, 0, 0, 2], '-': [0, 0, 7, 0, 0], ' ': [0, 0, 0, 0, 0], '/': [1, 1, 2, 4, 4], '(': [1, 2, 2, 2, 1], ')': [4, 2, 2, 2, 4],
  A: [2, 5, 7, 5, 5], B: [6, 5, 6, 5, 6], C: [7, 4, 4, 4, 7], D: [6, 5, 5, 5, 6], E: [7, 4, 6, 4, 7], F: [7, 4, 6, 4, 4],
  G: [7, 4, 5, 5, 7], H: [5, 5, 7, 5, 5], I: [7, 2, 2, 2, 7], K: [5, 5, 6, 5, 5], L: [4, 4, 4, 4, 7], M: [5, 7, 7, 5, 5],
  N: [6, 5, 5, 5, 5], O: [7, 5, 5, 5, 7], P: [7, 5, 7, 4, 4], R: [6, 5, 6, 5, 5], S: [7, 4, 7, 1, 7], T: [7, 2, 2, 2, 2],
  U: [5, 5, 5, 5, 7], V: [5, 5, 5, 5, 2], Z: [7, 1, 2, 4, 7], ',': [0, 0, 0, 2, 4], '_': [0, 0, 0, 0, 7], ':': [0, 2, 0, 2, 0], W: [5, 5, 7, 7, 5], X: [5, 5, 2, 5, 5], Y: [5, 5, 2, 2, 2], i: [2, 0, 2, 2, 2], s: [0, 7, 6, 1, 7],
};

export class Canvas implements RgbImage {
  readonly data: Uint8Array;
  constructor(readonly width: number, readonly height: number, bg: RGB = [255, 255, 255]) {
    this.data = new Uint8Array(width * height * 3);
    for (let i = 0; i < width * height; i++) this.data.set(bg, i * 3);
  }

  set(x: number, y: number, c: RGB): void {
    x = Math.round(x);
    y = Math.round(y);
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    this.data.set(c, (y * this.width + x) * 3);
  }

  rect(x0: number, y0: number, w: number, h: number, c: RGB): void {
    for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) this.set(x, y, c);
  }

  /** Bresenham line, `thick` pixels wide */
  line(x0: number, y0: number, x1: number, y1: number, c: RGB, thick = 1): void {
    const n = Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0), 1);
    for (let i = 0; i <= n; i++) {
      const x = x0 + ((x1 - x0) * i) / n;
      const y = y0 + ((y1 - y0) * i) / n;
      this.rect(Math.round(x - (thick - 1) / 2), Math.round(y - (thick - 1) / 2), thick, thick, c);
    }
  }

  /** text with its top-left at (x, y); unknown characters draw as blanks */
  text(x: number, y: number, s: string, c: RGB, scale = 2): void {
    for (const ch of s) {
      const g = FONT[ch] ?? FONT[ch.toUpperCase()] ?? FONT[' '];
      g.forEach((row, r) => {
        for (let b = 0; b < 3; b++) if (row & (4 >> b)) this.rect(x + b * scale, y + r * scale, scale, scale, c);
      });
      x += 4 * scale;
    }
  }

  textWidth(s: string, scale = 2): number {
    return s.length * 4 * scale - scale;
  }
}

export interface Series {
  values: number[];
  colour: RGB;
  /** a legend entry under the panel's title (series without one are left out of it) */
  label?: string;
  /** a square at each point (default true; off for long series) */
  markers?: boolean;
}

export interface PanelSpec {
  title: string;
  /** x positions (already transformed, e.g. log2 of bytes) */
  x: number[];
  /** a tick label per x position, or ticks of their own (`at` on the x scale) */
  xLabels: string[] | { at: number; label: string }[];
  series: Series[];
  /** formats a y tick value */
  yFormat?: (v: number) => string;
  /** axis titles: x under the tick labels, y above the axis (what and unit) */
  xTitle?: string;
  yTitle?: string;
}

/** Draw a line chart panel into the rectangle (x, y, w, h) of the canvas. */
export function drawPanel(cv: Canvas, x: number, y: number, w: number, h: number, spec: PanelSpec): void {
  const black: RGB = [0, 0, 0];
  const grid: RGB = [225, 225, 225];
  const left = x + 70;
  const right = x + w - 15;
  const labelled = spec.series.filter((s) => s.label);
  // the legend has a row of its own between the title and the plot: it never covers either
  const top = y + (labelled.length ? 55 : 35);
  const bottom = y + h - 35;
  cv.text(x + (w - cv.textWidth(spec.title)) / 2, y + 10, spec.title, black);
  if (labelled.length) {
    const entry = (s: Series) => 20 + cv.textWidth(s.label!) + 16;
    let lx = x + (w - labelled.reduce((n, s) => n + entry(s), 0)) / 2;
    for (const s of labelled) {
      cv.rect(lx, y + 31, 14, 4, s.colour);
      cv.text(lx + 20, y + 28, s.label!, s.colour);
      lx += entry(s);
    }
  }
  const all = spec.series.flatMap((s) => s.values).filter(Number.isFinite);
  let lo = Math.min(0, ...all);
  let hi = Math.max(...all, lo + 1e-9);
  const step = niceStep((hi - lo) / 5);
  lo = Math.floor(lo / step) * step;
  hi = Math.ceil(hi / step) * step;
  const xMin = Math.min(...spec.x);
  const xMax = Math.max(...spec.x, xMin + 1e-9);
  const px = (v: number) => left + ((v - xMin) / (xMax - xMin || 1)) * (right - left);
  const py = (v: number) => bottom - ((v - lo) / (hi - lo || 1)) * (bottom - top);
  // as many decimals as the tick step needs (0.5 -> 1, 0.002 -> 3)
  const decimals = [0, 1, 2, 3, 4, 5, 6].find((d) => Math.abs(Math.round(step * 10 ** d) - step * 10 ** d) < 1e-6) ?? 6;
  const fmt = spec.yFormat ?? ((v: number) => v.toFixed(decimals));
  for (let v = lo; v <= hi + step / 2; v += step) {
    cv.line(left, py(v), right, py(v), grid);
    const s = fmt(v);
    cv.text(left - 8 - cv.textWidth(s), py(v) - 5, s, black);
  }
  const ticks = spec.xLabels.map((t, i) => (typeof t === 'string' ? { at: spec.x[i], label: t } : t));
  for (const { at, label } of ticks) {
    cv.line(px(at), top, px(at), bottom, grid);
    cv.text(px(at) - cv.textWidth(label) / 2, bottom + 8, label, black);
  }
  cv.line(left, top, left, bottom, black, 2);
  cv.line(left, bottom, right, bottom, black, 2);
  if (spec.xTitle) cv.text(left + (right - left - cv.textWidth(spec.xTitle)) / 2, bottom + 22, spec.xTitle, black);
  if (spec.yTitle) cv.text(x + 4, y + 22, spec.yTitle, black);
  for (const s of spec.series) {
    let prev: [number, number] | null = null;
    s.values.forEach((v, i) => {
      if (!Number.isFinite(v)) {
        prev = null;
        return;
      }
      const p: [number, number] = [px(spec.x[i]), py(v)];
      if (prev) cv.line(prev[0], prev[1], p[0], p[1], s.colour, 2);
      if (s.markers !== false) cv.rect(Math.round(p[0]) - 3, Math.round(p[1]) - 3, 7, 7, s.colour);
      prev = p;
    });
  }
}

/**
 * One series over its index (frame order) as a one-panel chart: ticks at
 * round indices, markers only while there are few points.
 */
export function seriesPlot(title: string, values: number[], colour: RGB, axes: { x?: string; y?: string } = {}, width = 640, height = 220): Canvas {
  const cv = new Canvas(width, height);
  const last = Math.max(values.length - 1, 1);
  const step = Math.max(1, niceStep(last / 6));
  const xLabels = Array.from({ length: Math.floor(last / step) + 1 }, (_, i) => ({ at: i * step, label: String(i * step) }));
  drawPanel(cv, 0, 0, width, height, { title, x: values.map((_, i) => i), xLabels, series: [{ values, colour, markers: values.length <= 60 }], xTitle: axes.x, yTitle: axes.y });
  return cv;
}

function niceStep(raw: number): number {
  if (!(raw > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (raw <= m * p) return m * p;
  return 10 * p;
}
