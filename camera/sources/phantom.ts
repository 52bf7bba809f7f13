// A synthetic B-mode breast phantom with known lesion masks: deterministic for a
// seed, so tests, calibration (`quantize --calib-phantom N`) and demos need no data.
// Image formation, in the order a scanner does it:
//   echogenicity map (skin, fat, gland layers; hypoechoic lesions)
//   x posterior features (enhancement under cysts, shadowing under solid lesions)
//   x depth attenuation (partly compensated, as TGC does)
//   x Rayleigh speckle: |complex Gaussian|, laterally correlated, decorrelating
//     slowly from frame to frame (AR(1)) as tissue moves under the probe
//   -> log compression over a 50 dB dynamic range to 8 bits.
// Lesions drift on slow sinusoidal paths, so masks change frame to frame.
import type { Frame } from '../frame.js';
import { BaseSource } from '../frame.js';
import type { SourceOptions } from '../source-options.js';
import { UsageError } from '../../common/errors.js';

export interface PhantomOptions {
  width: number;
  height: number;
  fps: number;
  seed: number;
  /** frames to produce; 0 = endless */
  frames: number;
  /** number of lesions, 0..4 */
  lesions: number;
}

export const PHANTOM_DEFAULTS: PhantomOptions = { width: 320, height: 240, fps: 30, seed: 1, frames: 300, lesions: 2 };

interface Lesion {
  cx: number; // centre as a fraction of width/height
  cy: number;
  rx: number; // radii as fractions of width
  ry: number;
  ax: number; // drift amplitude (fraction of width/height) and phase
  ay: number;
  period: number; // seconds
  phase: number;
  lobes: number; // border irregularity
  lobeAmp: number;
  lobePhase: number;
  solid: boolean; // solid lesions shadow, cysts enhance
}

/** sfc32: small, fast, well-distributed 32-bit PRNG (Chris Doty-Humphrey's PractRand family). */
function sfc32(seed: number): () => number {
  let a = 0x9e3779b9, b = 0x243f6a88, c = 0xb7e15162, d = seed >>> 0;
  const next = () => {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 16; i++) next();
  return next;
}

/** Generates phantom frames one after another (speckle evolves, so order matters). */
export class PhantomGenerator {
  readonly #rand: () => number;
  readonly #lesions: Lesion[];
  readonly #echo: Float32Array; // static tissue echogenicity (without lesions)
  readonly #re: Float32Array; // speckle field state (complex Gaussian)
  readonly #im: Float32Array;
  readonly #pool: Float32Array; // white normals the speckle rows are drawn from
  readonly #fresh: Float32Array; // per-frame scratch, reused
  readonly #lat: Float32Array;
  readonly #frameEcho: Float32Array;
  readonly #posterior: Float32Array;
  readonly #amp: Float32Array;
  #index = 0;

  constructor(readonly options: PhantomOptions) {
    const { width: w, height: h, seed } = options;
    this.#rand = sfc32(seed * 2654435761);
    const r = this.#rand;
    this.#lesions = [];
    for (let i = 0; i < options.lesions; i++) {
      this.#lesions.push({
        cx: 0.2 + 0.6 * ((i + 0.5) / options.lesions) + (r() - 0.5) * 0.1,
        cy: 0.4 + r() * 0.3,
        rx: 0.07 + r() * 0.07,
        ry: 0.05 + r() * 0.05,
        ax: 0.04 + r() * 0.06,
        ay: 0.01 + r() * 0.03,
        period: 3 + r() * 4,
        phase: r() * 2 * Math.PI,
        lobes: 2 + Math.floor(r() * 4),
        lobeAmp: 0.03 + r() * 0.08,
        lobePhase: r() * 2 * Math.PI,
        solid: r() < 0.5,
      });
    }
    // Layered tissue: skin line, subcutaneous fat, glandular tissue with slow texture.
    this.#echo = new Float32Array(w * h);
    const k1 = 2 + r() * 4, k2 = 1 + r() * 3, p1 = r() * 6.28, p2 = r() * 6.28;
    const fatDepth = 0.15 + r() * 0.1;
    for (let y = 0; y < h; y++) {
      const fy = y / h;
      for (let x = 0; x < w; x++) {
        const fx = x / w;
        const boundary = fatDepth + 0.03 * Math.sin(fx * k2 * 6.28 + p2);
        let e: number;
        if (fy < 0.04) e = 1.6; // skin
        else if (fy < boundary) e = 0.3 + 0.08 * Math.sin(fx * 30 + fy * 20 + p1); // fat lobules
        else e = 0.9 + 0.25 * Math.sin(fx * k1 * 6.28 + fy * 9 + p1) * Math.sin(fy * 13 - fx * 5 + p2); // gland
        this.#echo[y * w + x] = e;
      }
    }
    // 4 frames' worth: rows drawn at random offsets rarely repeat within the speckle's memory
    this.#pool = normals(Math.max(1 << 16, 4 * w * h), r);
    [this.#fresh, this.#lat, this.#frameEcho, this.#posterior, this.#amp] = Array.from({ length: 5 }, () => new Float32Array(w * h));
    this.#re = new Float32Array(w * h);
    this.#im = new Float32Array(w * h);
    this.#gaussianField(this.#re, 1);
    this.#gaussianField(this.#im, 1);
  }

  get index(): number {
    return this.#index;
  }

  /** The next frame's grey pixels and 0/255 lesion mask. */
  next(): { pixels: Uint8Array; mask: Uint8Array; index: number; timeS: number } {
    const { width: w, height: h, fps } = this.options;
    const index = this.#index++;
    const t = index / fps;
    if (index > 0) this.#evolveSpeckle(0.92);
    const mask = new Uint8Array(w * h);
    const echo = this.#frameEcho;
    echo.set(this.#echo);
    const posterior = this.#posterior.fill(1);
    for (const l of this.#lesions) this.#drawLesion(l, t, echo, posterior, mask);
    const amp = this.#amp;
    for (let y = 0; y < h; y++) {
      const att = Math.exp(-1.1 * (y / h)); // attenuation left after TGC
      for (let x = 0; x < w; x++) {
        const i = y * w + x;
        const re = this.#re[i], im = this.#im[i];
        amp[i] = echo[i] * posterior[i] * att * Math.sqrt(re * re + im * im) + 0.004; // + noise floor
      }
    }
    const pixels = new Uint8Array(w * h);
    phantomLogCompress(amp, pixels);
    return { pixels, mask, index, timeS: t };
  }

  #drawLesion(l: Lesion, t: number, echo: Float32Array, posterior: Float32Array, mask: Uint8Array): void {
    const { width: w, height: h } = this.options;
    const ang = (2 * Math.PI * t) / l.period + l.phase;
    const cx = (l.cx + l.ax * Math.sin(ang)) * w;
    const cy = (l.cy + l.ay * Math.sin(2 * ang)) * h;
    const rx = l.rx * w;
    const ry = l.ry * w;
    const reach = 1 + l.lobeAmp;
    const x0 = Math.max(0, Math.floor(cx - rx * reach)), x1 = Math.min(w - 1, Math.ceil(cx + rx * reach));
    const y0 = Math.max(0, Math.floor(cy - ry * reach)), y1 = Math.min(h - 1, Math.ceil(cy + ry * reach));
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        const dx = (x + 0.5 - cx) / rx, dy = (y + 0.5 - cy) / ry;
        const rho = Math.hypot(dx, dy);
        const theta = Math.atan2(dy, dx);
        const edge = 1 + l.lobeAmp * Math.sin(l.lobes * theta + l.lobePhase);
        if (rho <= edge) {
          const i = y * w + x;
          mask[i] = 255;
          // cysts are nearly anechoic, solid lesions hypoechoic with a little texture
          echo[i] = l.solid ? 0.22 : 0.06;
        }
      }
    }
    // Posterior feature: a column under the lesion, fading with depth.
    const gain = l.solid ? 0.45 : 1.6;
    for (let x = x0; x <= x1; x++) {
      const dx = (x + 0.5 - cx) / rx;
      if (Math.abs(dx) >= 0.85) continue;
      const bottom = cy + ry * Math.sqrt(1 - dx * dx);
      for (let y = Math.max(0, Math.ceil(bottom)); y < h; y++) {
        const fade = Math.exp(-(y - bottom) / (0.35 * h));
        posterior[y * w + x] *= 1 + (gain - 1) * fade;
      }
    }
  }

  /** Laterally correlated white Gaussian noise (speckle cells are wider than tall). Each row's
   * white noise is a run of the generator's pool of normals at a random offset: the same
   * statistics as fresh Box-Muller normals at a fraction of the cost (a 30 fps source must
   * leave the cores to inference, as a capture card would). */
  #gaussianField(out: Float32Array, scale: number): void {
    const { width: w, height: h } = this.options;
    const r = this.#rand;
    const pool = this.#pool;
    // [1 2 3 2 1] lateral then [1 2 1] axial smoothing (separable), renormalised to unit variance
    const norm = scale / Math.sqrt((1 + 4 + 9 + 4 + 1) * (1 + 4 + 1)); // sum of squared weights
    const lat = this.#lat;
    for (let y = 0; y < h; y++) {
      const r0 = y * w;
      // the run starts 2 before the row and ends 2 after it: the taps need no edge handling
      const o = 2 + Math.floor(r() * (pool.length - w - 4));
      for (let x = 0; x < w; x++) {
        const c = o + x;
        lat[r0 + x] = pool[c - 2] + 2 * (pool[c - 1] + pool[c + 1]) + 3 * pool[c] + pool[c + 2];
      }
    }
    for (let y = 0; y < h; y++) {
      const up = (y > 0 ? y - 1 : 0) * w, mid = y * w, down = (y + 1 < h ? y + 1 : h - 1) * w;
      for (let x = 0; x < w; x++) out[mid + x] = (lat[up + x] + 2 * lat[mid + x] + lat[down + x]) * norm;
    }
  }

  #evolveSpeckle(rho: number): void {
    const n = this.#re.length;
    const fresh = this.#fresh;
    const k = Math.sqrt(1 - rho * rho);
    this.#gaussianField(fresh, 1);
    for (let i = 0; i < n; i++) this.#re[i] = rho * this.#re[i] + k * fresh[i];
    this.#gaussianField(fresh, 1);
    for (let i = 0; i < n; i++) this.#im[i] = rho * this.#im[i] + k * fresh[i];
  }
}

/** Standard normals by Box-Muller, two per pair of uniforms. */
function normals(n: number, r: () => number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = 1 - r(), v = r();
    const m = Math.sqrt(-2 * Math.log(u));
    out[i] = m * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) out[i + 1] = m * Math.sin(2 * Math.PI * v);
  }
  return out;
}

// Log compression over a 50 dB dynamic range to 8 bits: v = round(255 * (1 + 20 log10(amp / ref) / 50)),
// 0 dB = the mean Rayleigh amplitude of bright tissue. Math.log10 per pixel cost 6 ms a 320x240
// frame; instead the float's top bits (exponent + 8 mantissa bits, buckets narrower than one grey
// level) index the level below, and one comparison with the next level's threshold finishes it.
const REF = 4.5, RANGE_DB = 50;
/** threshold[v] = the smallest amplitude that rounds to level v (v = 1..255) */
const THRESHOLD = Float32Array.from({ length: 257 }, (_, v) => (v === 0 ? 0 : v === 256 ? Infinity : REF * 10 ** ((((v - 0.5) / 255 - 1) * RANGE_DB) / 20)));
const BUCKET_SHIFT = 15;
const BUCKET_LEVEL = (() => {
  const lut = new Uint8Array(1 << (32 - BUCKET_SHIFT - 1)); // positive floats only
  const f = new Float32Array(1), u = new Uint32Array(f.buffer);
  // positive floats order like their bits, so the level only grows with the bucket
  for (let b = 0, v = 0; b < lut.length; b++) {
    u[0] = b << BUCKET_SHIFT; // the bucket's smallest float
    while (v < 255 && THRESHOLD[v + 1] <= f[0]) v++;
    lut[b] = v;
  }
  return lut;
})();

/** Exported for its test against the formula. */
export function phantomLogCompress(amp: Float32Array, out: Uint8Array): void {
  const bits = new Uint32Array(amp.buffer, amp.byteOffset, amp.length);
  for (let i = 0; i < amp.length; i++) {
    const v = BUCKET_LEVEL[bits[i] >>> BUCKET_SHIFT];
    out[i] = amp[i] >= THRESHOLD[v + 1] ? v + 1 : v;
  }
}

/** N phantom frames in order (for calibration sets and tests). */
export function phantomFrames(n: number, options: Partial<PhantomOptions> = {}): Frame[] {
  const gen = new PhantomGenerator({ ...PHANTOM_DEFAULTS, ...options, frames: n });
  const out: Frame[] = [];
  const t0 = Date.now();
  for (let i = 0; i < n; i++) out.push(toFrame(gen, t0));
  return out;
}

function toFrame(gen: PhantomGenerator, wallStartMs: number): Frame {
  const { width, height, fps, seed } = gen.options;
  const f = gen.next();
  return {
    id: f.index,
    captureTime: { monoNs: BigInt(Math.round((f.index * 1e9) / fps)), wallMs: wallStartMs + (f.index * 1000) / fps },
    width,
    height,
    pixels: f.pixels,
    groundTruth: f.mask,
    meta: { source: 'phantom', seed, index: f.index },
  };
}

class PhantomSource extends BaseSource {
  constructor(spec: string, private readonly options: PhantomOptions) {
    super({ spec, kind: 'phantom', live: false, fps: options.fps, width: options.width, height: options.height, frameCount: options.frames || undefined }, 'live');
  }

  protected async *frames(): AsyncGenerator<Frame> {
    const gen = new PhantomGenerator(this.options);
    const t0 = Date.now();
    while (!this.closed && (this.options.frames === 0 || gen.index < this.options.frames)) yield toFrame(gen, t0);
  }
}

export async function openPhantom(target: string, opts: SourceOptions, spec: string): Promise<PhantomSource> {
  if (target) throw new UsageError(`source "${spec}": phantom takes only options, e.g. phantom:?size=320x240&fps=30&seed=1&frames=300`);
  const size = opts.size('size') ?? { width: PHANTOM_DEFAULTS.width, height: PHANTOM_DEFAULTS.height };
  return new PhantomSource(spec, {
    ...size,
    fps: opts.number('fps', PHANTOM_DEFAULTS.fps, 0.1, 1000) as number,
    seed: opts.int('seed', PHANTOM_DEFAULTS.seed, 0, 0xffffffff),
    frames: opts.int('frames', PHANTOM_DEFAULTS.frames, 0),
    lesions: opts.int('lesions', PHANTOM_DEFAULTS.lesions, 0, 4),
  });
}
