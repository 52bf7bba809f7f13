// Which attention gate the page shows first, chosen per model from what it
// publishes. A gate whose map is close to one value everywhere (the shipped
// model's gate 4 is ~0.98 all over) paints a flat wash and shows nothing of
// where the model looks. The spatial contrast of a gate is the standard
// deviation of its values over the image content (letterbox cells left out);
// the choice is the finest gate whose contrast is at least CONTRAST_SHARE of
// the largest (finer gates say more precisely where), averaged over the first
// CHOICE_FRAMES frames of a model and then kept, so the view does not jump.
// Pure (tests/monitor/units.test.ts; tests/monitor/live-states.test.ts runs it
// on the shipped model).
import { gateSize, type FrameMessage } from '../../contracts/frame-message.js';
import type { GateChoice } from './render.js';

export const CONTRAST_SHARE = 0.8;
export const CHOICE_FRAMES = 5;
/** below this everywhere no gate shows anything: show all four side by side */
export const FLAT = 0.02;

/** The spatial contrast (0..0.5) of each published gate of a frame; null for a gate not published. */
export function gateContrast(m: FrameMessage): (number | null)[] {
  const c = m.content.width > 0 && m.content.height > 0 ? m.content : { x: 0, y: 0, width: m.width, height: m.height };
  return m.attention.map((a, i) => {
    if (!a) return null;
    const g = gateSize(i + 1, m.width, m.height);
    const kx = m.width / g.width;
    const ky = m.height / g.height;
    let n = 0;
    let sum = 0;
    let sum2 = 0;
    for (let y = 0; y < g.height; y++) {
      const cy = (y + 0.5) * ky;
      if (cy < c.y || cy >= c.y + c.height) continue;
      for (let x = 0; x < g.width; x++) {
        const cx = (x + 0.5) * kx;
        if (cx < c.x || cx >= c.x + c.width) continue;
        const v = a[y * g.width + x] / 256;
        n++;
        sum += v;
        sum2 += v * v;
      }
    }
    if (!n) return 0;
    const mean = sum / n;
    return Math.sqrt(Math.max(0, sum2 / n - mean * mean));
  });
}

/** The finest gate with at least CONTRAST_SHARE of the largest contrast; 0 (all four) when every gate is flat or none is published. */
export function chooseGate(contrast: readonly (number | null)[]): GateChoice {
  const max = Math.max(0, ...contrast.map((c) => c ?? 0));
  if (max < FLAT) return 0;
  for (let k = 4; k >= 1; k--) {
    const c = contrast[k - 1];
    if (c !== null && c !== undefined && c >= CONTRAST_SHARE * max) return k as GateChoice;
  }
  return 0;
}

/** The choice for one model: contrast averaged over its first frames, then fixed. */
export class GateChooser {
  readonly #sum = [0, 0, 0, 0];
  readonly #seen = [0, 0, 0, 0];
  #frames = 0;
  #choice: GateChoice | null = null;
  #model: string | null = null;

  /** Start again when the device runs another model (or publishes other gates). */
  setModel(key: string): void {
    if (key === this.#model) return;
    this.#model = key;
    this.#sum.fill(0);
    this.#seen.fill(0);
    this.#frames = 0;
    this.#choice = null;
  }

  /** Learn from a frame while the choice is still open; returns the current choice. */
  observe(m: FrameMessage): GateChoice {
    if (this.#frames < CHOICE_FRAMES) {
      gateContrast(m).forEach((c, i) => {
        if (c === null) return;
        this.#sum[i] += c;
        this.#seen[i]++;
      });
      this.#frames++;
      this.#choice = chooseGate(this.#sum.map((s, i) => (this.#seen[i] ? s / this.#seen[i] : null)));
    }
    return this.#choice!;
  }

  get choice(): GateChoice | null {
    return this.#choice;
  }

  /** the averaged contrast per gate so far (for the page's counters and tests) */
  get contrast(): (number | null)[] {
    return this.#sum.map((s, i) => (this.#seen[i] ? s / this.#seen[i] : null));
  }
}
