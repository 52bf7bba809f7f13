// folder:DIR — PNG/JPEG images in name order (numbers compared as numbers, so
// "benign (2)" precedes "benign (10)"), descending into sub-folders in the same
// order. The BUSI layout gives ground truth: "X.png" has masks "X_mask.png",
// "X_mask_1.png", ... whose union is the lesion mask; mask files are never frames.
// Images carry no timing: frames are spaced at a nominal fps (default 30).
import { readdirSync, statSync } from 'node:fs';
import { join, extname, basename, relative } from 'node:path';
import type { Frame } from '../frame.js';
import { BaseSource } from '../frame.js';
import type { SourceOptions } from '../source-options.js';
import { readGreyImage } from '../../common/image-io.js';
import { FileError } from '../../common/errors.js';

const IMAGE_EXT = new Set(['.png', '.jpg', '.jpeg']);
const MASK_RE = /^(.*)_mask(?:_\d+)?$/;
const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'variant' });

export interface FolderEntry {
  image: string;
  masks: string[];
}

/** Images under dir in name order, each with its BUSI-style mask files. */
export function listFolder(dir: string): FolderEntry[] {
  let st;
  try {
    st = statSync(dir);
  } catch (e) {
    throw new FileError(dir, `cannot open folder: ${(e as Error).message}`, 'NO_FILE');
  }
  if (!st.isDirectory()) throw new FileError(dir, 'not a folder (folder: needs a directory of PNG/JPEG images)', 'BAD_FILE');
  const out: FolderEntry[] = [];
  walk(dir, out);
  return out;
}

function walk(dir: string, out: FolderEntry[]): void {
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => collator.compare(a.name, b.name));
  const images = new Map<string, FolderEntry>();
  const masks: { stem: string; file: string }[] = [];
  for (const e of entries) {
    const full = join(dir, e.name);
    if (e.isDirectory()) {
      walk(full, out);
      continue;
    }
    const ext = extname(e.name).toLowerCase();
    if (!IMAGE_EXT.has(ext)) continue;
    const stem = basename(e.name, extname(e.name));
    const m = MASK_RE.exec(stem);
    if (m) masks.push({ stem: m[1], file: full });
    else {
      const entry = { image: full, masks: [] };
      images.set(stem, entry);
      out.push(entry);
    }
  }
  for (const { stem, file } of masks) images.get(stem)?.masks.push(file);
}

class FolderSource extends BaseSource {
  constructor(spec: string, private readonly dir: string, private readonly entries: FolderEntry[], fps: number) {
    super({ spec, kind: 'folder', live: false, fps, frameCount: entries.length }, 'live');
  }

  protected async *frames(): AsyncGenerator<Frame> {
    const fps = this.info.fps as number;
    const t0 = Date.now();
    for (let id = 0; id < this.entries.length && !this.closed; id++) {
      const { image, masks } = this.entries[id];
      const img = readGreyImage(image);
      let groundTruth: Uint8Array | undefined;
      for (const m of masks) {
        const mask = readGreyImage(m);
        if (mask.width !== img.width || mask.height !== img.height) {
          throw new FileError(m, `mask is ${mask.width}x${mask.height} but its image ${basename(image)} is ${img.width}x${img.height}`, 'BAD_MASK');
        }
        groundTruth ??= new Uint8Array(img.width * img.height);
        for (let i = 0; i < groundTruth.length; i++) if (mask.data[i] !== 0) groundTruth[i] = 255;
      }
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
  const entries = listFolder(dir);
  if (entries.length === 0) throw new FileError(dir, 'no PNG or JPEG images in this folder', 'EMPTY');
  return new FolderSource(spec, dir, entries, fps);
}
