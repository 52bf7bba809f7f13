// aunet explain: the study's inference-only explanations as PNG heatmaps.
//  occlusion:   a zeroed window (50x50 at 256x256, scaled to the model input)
//               slides with stride 30; for each position the absolute change of
//               the predicted probability inside the window is accumulated, then
//               divided by the number of windows that covered the pixel.
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

/** Per pixel: |prob(occluded) - prob(original)| accumulated over the windows covering it, divided by their number (probability units). */
export function occlusion(engine: Engine, input: Uint8Array, W: number, H: number, C: number, progress?: (done: number, total: number) => void): { heat: Float32Array; windows: number } {
  const { winX, winY, strideX, strideY } = occlusionGeometry(W, H);
  const base = engine.run(input).prob.data;
  const heat = new Float32Array(W * H);
  const covered = new Uint16Array(W * H);
  const ys: number[] = [];
  const xs: number[] = [];
  for (let y = 0; y < H; y += strideY) ys.push(y);
  for (let x = 0; x < W; x += strideX) xs.push(x);
  const total = ys.length * xs.length;
  progress?.(0, total);
  const occluded = new Uint8Array(input.length);
  let done = 0;
  for (const y0 of ys) {
    for (const x0 of xs) {
      occluded.set(input);
      const y1 = Math.min(H, y0 + winY);
      const x1 = Math.min(W, x0 + winX);
      for (let y = y0; y < y1; y++) occluded.fill(0, (y * W + x0) * C, (y * W + x1) * C);
      const p = engine.run(occluded).prob.data;
      for (let y = y0; y < y1; y++) {
        for (let x = x0; x < x1; x++) {
          heat[y * W + x] += Math.abs(p[y * W + x] - base[y * W + x]) / 256;
          covered[y * W + x]++;
        }
      }
      progress?.(++done, total);
    }
  }
  // mean over the windows covering each pixel (as Captum's Occlusion does), so the
  // overlaps of a stride smaller than the window do not draw a grid
  for (let i = 0; i < heat.length; i++) if (covered[i]) heat[i] /= covered[i];
  return { heat, windows: total };
}
