// A tiny synthetic dataset in the BUSI layout: bright disks (lesions) on dark speckle.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from 'fast-png';
import { listBusi } from '../../../models/datasets/busi.js';
import { assignSplits, fileSha256, type SplitManifest } from '../../../models/datasets/split.js';

export function disk(w: number, h: number, cx: number, cy: number, r: number): Uint8Array {
  const m = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if ((x - cx) ** 2 + (y - cy) ** 2 <= r * r) m[y * w + x] = 1;
  return m;
}

/** n images per class; lesion images have one disk (a second mask file for every third image). */
export function makeDataset(n = 5, opts: { rgb?: boolean } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'busi-'));
  let seed = 3;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) >> 8) & 31;
  for (const cls of ['benign', 'malignant', 'normal']) {
    mkdirSync(join(dir, cls));
    for (let i = 1; i <= n; i++) {
      const w = 60 + 4 * i;
      const h = 48 + 2 * i;
      const lesion = cls === 'normal' ? new Uint8Array(w * h) : disk(w, h, w / 2, h / 2, 10 + i);
      const extra = cls !== 'normal' && i % 3 === 0 ? disk(w, h, 8, 8, 5) : undefined;
      const img = new Uint8Array(w * h);
      for (let p = 0; p < w * h; p++) img[p] = lesion[p] || extra?.[p] ? 200 + rnd() : 20 + rnd();
      const name = `${cls} (${i})`;
      const png = opts.rgb
        ? encode({ width: w, height: h, channels: 3, depth: 8, data: Uint8Array.from(Array.from(img).flatMap((v) => [v, v, v])) })
        : encode({ width: w, height: h, channels: 1, depth: 8, data: img });
      writeFileSync(join(dir, cls, `${name}.png`), png);
      // masks as RGBA, like some originals
      writeFileSync(join(dir, cls, `${name}_mask.png`), encode({ width: w, height: h, channels: 4, depth: 8, data: Uint8Array.from(Array.from(lesion).flatMap((v) => [255 * v, 255 * v, 255 * v, 255])) }));
      if (extra) writeFileSync(join(dir, cls, `${name}_mask_1.png`), encode({ width: w, height: h, channels: 1, depth: 8, data: extra.map((v) => 255 * v) }));
    }
  }
  return dir;
}

/** A split manifest for a synthetic folder: every image its own group (its disks are near-twins by design). */
export function splitOf(dir: string): SplitManifest {
  return assignSplits(
    listBusi(dir).map((e, i) => ({ name: e.name, cls: e.cls, sha256: fileSha256(e.image), group: i })),
    { test: 'synthetic, no twin search' },
  );
}
