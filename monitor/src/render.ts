// Drawing one frame message: the picture the model saw, a heatmap (an attention
// gate or the probability map) blended over it, and the lesion outline. Work is
// done at model resolution (e.g. 128 x 128) in small canvases; the browser then
// scales them into the visible canvases (one drawImage each), so the cost does
// not grow with the screen size.
import { colormapTable, type ColormapName } from '../../common/colormap.js';
import { gateSize, type FrameMessage } from '../../contracts/frame-message.js';

export type OverlayMode = 'attention' | 'prob' | 'none';
/** 1..4 = that attention gate; 0 = all four as a strip */
export type GateChoice = 0 | 1 | 2 | 3 | 4;

export interface ViewOptions {
  gate: GateChoice;
  /** the gate is the one gate-choice.ts picks for the running model (until an operator picks one) */
  autoGate: boolean;
  overlay: OverlayMode;
  contour: boolean;
  /** heatmap opacity 0..1 */
  opacity: number;
  colormap: ColormapName;
}

export const CONTOUR_COLOUR = '#39ff14';

/** An offscreen canvas holding an RGBA image at its native size. */
class Layer {
  readonly canvas = document.createElement('canvas');
  readonly #ctx = this.canvas.getContext('2d')!;
  #img: ImageData | null = null;

  /** grey bytes -> opaque grey RGBA */
  grey(src: Uint8Array, w: number, h: number): HTMLCanvasElement {
    const d = this.#data(w, h);
    for (let p = 0, q = 0; p < src.length; p++, q += 4) {
      const v = src[p];
      d[q] = v;
      d[q + 1] = v;
      d[q + 2] = v;
      d[q + 3] = 255;
    }
    return this.#flush();
  }

  /** 8-bit values -> colour-mapped opaque RGBA */
  heat(src: Uint8Array, w: number, h: number, map: ColormapName): HTMLCanvasElement {
    const t = colormapTable(map);
    const d = this.#data(w, h);
    for (let p = 0, q = 0; p < src.length; p++, q += 4) {
      const v = src[p] * 3;
      d[q] = t[v];
      d[q + 1] = t[v + 1];
      d[q + 2] = t[v + 2];
      d[q + 3] = 255;
    }
    return this.#flush();
  }

  #data(w: number, h: number): Uint8ClampedArray {
    if (!this.#img || this.#img.width !== w || this.#img.height !== h) {
      this.canvas.width = w;
      this.canvas.height = h;
      this.#img = this.#ctx.createImageData(w, h);
    }
    return this.#img.data;
  }

  #flush(): HTMLCanvasElement {
    this.#ctx.putImageData(this.#img!, 0, 0);
    return this.canvas;
  }
}

/** Where the content lands inside a target canvas (aspect kept, centred). */
interface Fit {
  x: number;
  y: number;
  w: number;
  h: number;
}

function fit(target: HTMLCanvasElement, cw: number, ch: number): Fit {
  const s = Math.min(target.width / cw, target.height / ch);
  const w = Math.round(cw * s);
  const h = Math.round(ch * s);
  return { x: Math.floor((target.width - w) / 2), y: Math.floor((target.height - h) / 2), w, h };
}

/** Keep a canvas's backing store at its CSS size x devicePixelRatio (sharp lines, no blur). */
export function sizeToDisplay(canvas: HTMLCanvasElement): void {
  const r = window.devicePixelRatio || 1;
  const w = Math.max(1, Math.round(canvas.clientWidth * r));
  const h = Math.max(1, Math.round(canvas.clientHeight * r));
  if (canvas.width !== w) canvas.width = w;
  if (canvas.height !== h) canvas.height = h;
}

export class FrameRenderer {
  readonly #base = new Layer();
  readonly #heat = new Layer();

  /**
   * Draw `m` into `target`: picture, then the heatmap `heat` (values w x h covering
   * the whole frame) at `opacity`, then the contour. Only the image content
   * (inside the letterbox) is shown.
   */
  compose(target: HTMLCanvasElement, m: FrameMessage, heat: { data: Uint8Array; width: number; height: number } | null, o: ViewOptions, label?: string): void {
    const ctx = target.getContext('2d')!;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, target.width, target.height);
    const c = m.content.width > 0 && m.content.height > 0 ? m.content : { x: 0, y: 0, width: m.width, height: m.height };
    const f = fit(target, c.width, c.height);
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = 'medium';
    ctx.drawImage(this.#base.grey(m.frame, m.width, m.height), c.x, c.y, c.width, c.height, f.x, f.y, f.w, f.h);
    if (heat && o.opacity > 0) {
      const sx = heat.width / m.width;
      const sy = heat.height / m.height;
      ctx.globalAlpha = o.opacity;
      ctx.drawImage(this.#heat.heat(heat.data, heat.width, heat.height, o.colormap), c.x * sx, c.y * sy, c.width * sx, c.height * sy, f.x, f.y, f.w, f.h);
      ctx.globalAlpha = 1;
    }
    if (o.contour && m.contours.length) {
      const kx = f.w / c.width;
      const ky = f.h / c.height;
      ctx.save();
      ctx.beginPath();
      ctx.rect(f.x, f.y, f.w, f.h);
      ctx.clip();
      ctx.beginPath();
      for (const p of m.contours) {
        for (let i = 0; i < p.length; i += 2) {
          const x = f.x + (p[i] + 0.5 - c.x) * kx;
          const y = f.y + (p[i + 1] + 0.5 - c.y) * ky;
          if (i === 0) ctx.moveTo(x, y);
          else ctx.lineTo(x, y);
        }
        ctx.closePath();
      }
      ctx.lineWidth = Math.max(2, Math.round(target.width / 300));
      ctx.lineJoin = 'round';
      ctx.strokeStyle = CONTOUR_COLOUR;
      ctx.stroke();
      ctx.restore();
    }
    if (label) {
      const px = Math.max(12, Math.round(target.width / 28));
      ctx.font = `600 ${px}px system-ui, sans-serif`;
      ctx.textBaseline = 'top';
      const w = ctx.measureText(label).width;
      ctx.fillStyle = 'rgba(0,0,0,0.6)';
      ctx.fillRect(f.x, f.y, w + px, px * 1.5);
      ctx.fillStyle = '#fff';
      ctx.fillText(label, f.x + px / 2, f.y + px / 4);
    }
  }
}

/** The heatmap for an overlay choice, or null (with the reason) when there is none. */
export function heatFor(m: FrameMessage, overlay: OverlayMode, gate: 1 | 2 | 3 | 4): { data: Uint8Array; width: number; height: number } | null {
  if (overlay === 'prob') return { data: m.prob, width: m.width, height: m.height };
  if (overlay === 'none') return null;
  const a = m.attention[gate - 1];
  if (!a) return null;
  return { data: a, ...gateSize(gate, m.width, m.height) };
}
