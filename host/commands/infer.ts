// aunet infer: one image through the int8 model; writes the mask, the
// probability map, the four attention maps as heatmaps and an overlay (PNG).
// Same model, same image, same engine: byte-identical files.
import type { Command } from 'commander';
import { join } from 'node:path';
import { writeGreyPng, writeRgbPng } from '../../common/image-io.js';
import { loadModel } from '../load/model-loader.js';
import { loadEngine } from '../load/engine-loader.js';
import { imageInput } from './support/model-inputs.js';
import { engineOption, kernelsOption, threadsOption } from './support/engine-options.js';
import { heatmap, outputFolder, overlayOnOriginal } from './support/render.js';

/** The seven files infer writes, in order. */
export const INFER_FILES = ['mask.png', 'prob.png', 'attention1.png', 'attention2.png', 'attention3.png', 'attention4.png', 'overlay.png'] as const;

interface Options {
  model: string;
  input: string;
  out: string;
  engine: string;
  kernels: string;
  threads?: number;
}

export function register(program: Command): void {
  program
    .command('infer')
    .description('run one image; write mask, probability, four attention heatmaps and an overlay as PNG')
    .requiredOption('--model <file>', 'int8 model (.aunet)')
    .requiredOption('--input <image>', 'PNG or JPEG image (any size; preprocessed as the model says)')
    .requiredOption('--out <dir>', 'output folder (created if missing)')
    .addOption(engineOption(undefined, 'direct'))
    .addOption(kernelsOption())
    .addOption(threadsOption())
    .action(async (o: Options) => {
      const { model } = await loadModel(o.model);
      const { arch } = model;
      const input = imageInput(o.input, arch, model.preprocessing);
      const loaded = await loadEngine(model, { engine: o.engine, kernels: o.kernels, threads: o.threads });
      const { engine } = loaded;
      const r = engine.run(input.data);
      await loaded.close();
      outputFolder(o.out);
      const W = arch.width;
      const H = arch.height;
      const files = INFER_FILES.map((f) => join(o.out, f));
      writeGreyPng(files[0], { width: W, height: H, data: r.mask.map((v) => (v ? 255 : 0)) });
      writeGreyPng(files[1], { width: W, height: H, data: r.prob.data });
      r.attention.forEach((a, i) => writeRgbPng(files[2 + i], heatmap({ width: a.width, height: a.height, data: a.data }, W, H)));
      writeRgbPng(files[6], overlayOnOriginal(input.grey, r.prob.data, r.mask, W, H, input.placement));
      const lesion = r.mask.reduce((s, v) => s + v, 0);
      const maxProb = r.prob.data.reduce((m, v) => Math.max(m, v), 0) / 256;
      process.stdout.write(
        `${o.input}: lesion ${((100 * lesion) / (W * H)).toFixed(1)}% of the ${W}x${H} model input, max probability ${maxProb.toFixed(3)} (${engine.name} engine)\n` +
          files.map((f) => `  ${f}\n`).join(''),
      );
    });
}
