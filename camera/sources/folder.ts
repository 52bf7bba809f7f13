// folder:DIR — the PNG/JPEG images of a folder and its sub-folders, listed by
// common/image-folder.ts (natural order; BUSI-style masks beside an image are
// its ground truth, never frames). Images carry no timing: frames are spaced
// at a nominal fps (default 30).
import { relative } from 'node:path';
import type { Frame } from '../frame.js';
import { BaseSource } from '../frame.js';
import type { SourceOptions } from '../source-options.js';
import { readGreyImage } from '../../common/image-io.js';
import { listImageFolder, readMaskUnion, type ImageEntry } from '../../common/image-folder.js';
import { FileError } from '../../common/errors.js';

class FolderSource extends BaseSource {
  constructor(spec: string, private readonly dir: string, private readonly entries: ImageEntry[], fps: number) {
    super({ spec, kind: 'folder', live: false, fps, frameCount: entries.length }, 'live');
  }

  protected async *frames(): AsyncGenerator<Frame> {
    const fps = this.info.fps as number;
    const t0 = Date.now();
    for (let id = 0; id < this.entries.length && !this.closed; id++) {
      const { image, masks } = this.entries[id];
      const img = readGreyImage(image);
      const groundTruth = masks.length ? readMaskUnion(masks, img.width, img.height, image).data : undefined;
      yield {
        id,
        captureTime: { monoNs: BigInt(Math.round((id * 1e9) / fps)), wallMs: t0 + (id * 1000) / fps },
        width: img.width,
        height: img.height,
        pixels: img.data,
        groundTruth,
        meta: { source: 'folder', file: relative(this.dir, image), masks: masks.length },
      };
    }
  }
}

export async function openFolder(dir: string, opts: SourceOptions, spec: string): Promise<FolderSource> {
  const fps = opts.number('fps', 30, 0.1, 1000) as number;
  const skipped: string[] = [];
  const entries = listImageFolder(dir, { recursive: true, onSkip: (path, why) => skipped.push(`${path}: skipped, it is ${why}`) });
  if (entries.length === 0) throw new FileError(dir, `no PNG or JPEG images in this folder${skipped.length ? ` (${skipped.length} skipped: not regular files)` : ''}`, 'EMPTY');
  const src = new FolderSource(spec, dir, entries, fps);
  for (const w of skipped) src.warn(w);
  return src;
}
