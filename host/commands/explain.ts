// aunet explain: the study's inference-only explanations as PNG heatmaps.
//  occlusion:   a zeroed window (50x50 at 256x256, scaled to the model input)
//               centred on a grid of stride 30; per pixel, the weighted mean of
//               the absolute change of the predicted probability over the windows
//               covering it, each weighted by a taper towards its edges (occlusion()).
//  activations: channel 0 of each encoder block's output (the pooled p1..p4,
//               what the study's visualize_encoder_blocks shows), min-max scaled.
import type { Command } from 'commander';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import type { Engine } from '../engine/engine.js';
import { writeRgbPng } from '../../common/image-io.js';
import { UsageError } from '../../common/errors.js';
import { loadModel } from '../load/model-loader.js';
import { loadEngine } from '../load/engine-loader.js';
import { imageInput } from './support/model-inputs.js';
import { engineOption, kernelsOption } from './support/engine-options.js';
import { heatmap, normalizeToU8, outputFolder, overlayOnOriginal } from './support/render.js';

/** Window and stride of the study at 256x256. */
export const OCCLUSION_WINDOW = 50;
export const OCCLUSION_STRIDE = 30;
const STUDY_SIZE = 256;

interface Options {
  model: string;
  input: string;
  method: string;
  out: string;
  engine: string;
  kernels: string;
  progress: boolean;
}

export function register(program: Command): void {
  program
    .command('explain')
    .description('occlusion sensitivity or encoder activations of one image, as PNG heatmaps')
    .requiredOption('--model <file>', 'int8 model (.aunet)')
    .requiredOption('--input <image>', 'PNG or JPEG image')
    .requiredOption('--method <m>', 'occlusion or activations')
    .requiredOption('--out <dir>', 'output folder (created if missing)')
    .addOption(engineOption('direct or chip (occlusion only; activations need direct)', 'direct'))
    .addOption(kernelsOption())
    .option('--no-progress', 'no progress bar')
    .action(async (o: Options) => {
      if (o.method !== 'occlusion' && o.method !== 'activations') throw new UsageError(`--method must be occlusion or activations, got '${o.method}'`);
      const { model } = await loadModel(o.model);
      const { arch } = model;
      const input = imageInput(o.input, arch, model.preprocessing);
      outputFolder(o.out);
      const W = arch.width;
      const H = arch.height;
      const written: string[] = [];
      if (o.method === 'occlusion') {
        const { engine } = await loadEngine(model, { engine: o.engine, kernels: o.kernels });
        const bar = o.progress ? new cliProgress.SingleBar({ format: 'occlusion [{bar}] {value}/{total} windows | {eta_formatted} left', stream: process.stderr }, cliProgress.Presets.shades_classic) : undefined;
        const { heat, windows } = occlusion(engine, input.data, W, H, arch.channels, (done, total) => {
          if (done === 0) bar?.start(total, 0);
          else bar?.update(done);
        });
        bar?.stop();
        const u8 = normalizeToU8(heat, W, H);
        written.push(join(o.out, 'occlusion.png'), join(o.out, 'occlusion-overlay.png'));
        writeRgbPng(written[0], heatmap(u8, W, H, 'inferno'));
        writeRgbPng(written[1], overlayOnOriginal(input.grey, u8.data, undefined, W, H, input.placement));
        process.stdout.write(`occlusion: ${windows} windows of ${occlusionGeometry(W, H).winX}x${occlusionGeometry(W, H).winY} px\n`);
      } else {
        const { engine } = await loadEngine(model, { engine: o.engine, kernels: o.kernels, keepTensors: true });
        engine.run(input.data);
        for (let i = 1; i <= 4; i++) {
          const name = `p${i}`;
          const q = engine.tensor!(name);
          const p = model.tensors[name];
          const [h, w, c] = [H >> i, W >> i, q.length / ((H >> i) * (W >> i))];
          const ch0 = new Float32Array(h * w);
          for (let k = 0; k < h * w; k++) ch0[k] = p.scale * (q[k * c] - p.zeroPoint);
          const file = join(o.out, `encoder${i}.png`);
          writeRgbPng(file, heatmap(normalizeToU8(ch0, w, h), W, H, 'viridis'));
          written.push(file);
        }
      }
      process.stdout.write(written.map((f) => `  ${f}\n`).join(''));
    });
}

/** Window size and stride scaled from the study's 256x256 to the model input. */
export function occlusionGeometry(W: number, H: number): { winX: number; winY: number; strideX: number; strideY: number } {
  return {
    winX: Math.max(1, Math.round((OCCLUSION_WINDOW * W) / STUDY_SIZE)),
    winY: Math.max(1, Math.round((OCCLUSION_WINDOW * H) / STUDY_SIZE)),
    strideX: Math.max(1, Math.round((OCCLUSION_STRIDE * W) / STUDY_SIZE)),
    strideY: Math.max(1, Math.round((OCCLUSION_STRIDE * H) / STUDY_SIZE)),
  };
}

/** Where the windows lie: their left and top edges (some outside the image), centred on a grid of the stride from the corner pixel to the last. */
export function occlusionWindows(W: number, H: number): { winX: number; winY: number; xs: number[]; ys: number[] } {
  const { winX, winY, strideX, strideY } = occlusionGeometry(W, H);
  const starts = (size: number, win: number, stride: number) => {
    const out: number[] = [];
    for (let c = 0; c < size + stride - 1; c += stride) out.push(Math.min(c, size - 1) - (win >> 1));
    return [...new Set(out)];
  };
  return { winX, winY, xs: starts(W, winX, strideX), ys: starts(H, winY, strideY) };
}

/**
 * Per pixel: the weighted mean, over the windows covering it, of |prob(occluded) - prob(original)|
 * (probability units). Windows are centred on a grid of `stride` starting at the corner pixel (so
 * border pixels sit at a window's centre too; a window's part outside the image occludes nothing).
 * Each window's change is weighted by a raised-cosine (Hann) taper that falls towards the window's
 * edges: a plain mean over the covering windows (Captum's Occlusion) still jumps wherever the set
 * of covering windows changes and wherever the occluder's own hard edge moved the prediction, which
 * draws the window grid (measured: gradients 6 to 14 times steeper on window-edge columns than
 * elsewhere on the shipped model); with the taper every window speaks mostly about its centre.
 */
export function occlusion(engine: Engine, input: Uint8Array, W: number, H: number, C: number, progress?: (done: number, total: number) => void): { heat: Float32Array; windows: number } {
  const { winX, winY, xs, ys } = occlusionWindows(W, H);
  const base = engine.run(input).prob.data;
  const heat = new Float32Array(W * H);
  const weight = new Float32Array(W * H);
  const taper = (n: number) => Float32Array.from({ length: n }, (_, u) => Math.sin((Math.PI * (u + 0.5)) / n) ** 2);
  const tx = taper(winX);
  const ty = taper(winY);
  const total = ys.length * xs.length;
  progress?.(0, total);
  const occluded = new Uint8Array(input.length);
  let done = 0;
  for (const y0 of ys) {
    for (const x0 of xs) {
      occluded.set(input);
      const ya = Math.max(0, y0);
      const yb = Math.min(H, y0 + winY);
      const xa = Math.max(0, x0);
      const xb = Math.min(W, x0 + winX);
      for (let y = ya; y < yb; y++) occluded.fill(0, (y * W + xa) * C, (y * W + xb) * C);
      const p = engine.run(occluded).prob.data;
      for (let y = ya; y < yb; y++) {
        for (let x = xa; x < xb; x++) {
          const w = ty[y - y0] * tx[x - x0];
          heat[y * W + x] += (w * Math.abs(p[y * W + x] - base[y * W + x])) / 256;
          weight[y * W + x] += w;
        }
      }
      progress?.(++done, total);
    }
  }
  for (let i = 0; i < heat.length; i++) if (weight[i] > 0) heat[i] /= weight[i];
  return { heat, windows: total };
}
