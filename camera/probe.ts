// Counting and hashing a source's frames: `aunet probe` and the record/replay
// round-trip checks. sha256 runs over every decoded grey frame's pixels in
// order, so two sources with the same probe hash deliver bit-identical frames.
import { createHash } from 'node:crypto';
import type { FrameSource } from './frame.js';

export interface ProbeResult {
  frames: number;
  /** size of the first frame (sources like image folders may vary: see sizesVary) */
  width: number;
  height: number;
  /** nominal fps, or measured from the timestamps when the source has none */
  fps: number | null;
  sha256: string;
  sizesVary?: boolean;
}

export async function probeSource(src: FrameSource, opts: { count?: number; onFrame?: (n: number) => void } = {}): Promise<ProbeResult> {
  const h = createHash('sha256');
  let frames = 0;
  let width = 0;
  let height = 0;
  let sizesVary = false;
  let first: bigint | undefined;
  let last: bigint | undefined;
  try {
    for await (const f of src) {
      if (frames === 0) ({ width, height } = f);
      else if (f.width !== width || f.height !== height) sizesVary = true;
      h.update(f.pixels);
      first ??= f.captureTime.monoNs;
      last = f.captureTime.monoNs;
      frames++;
      opts.onFrame?.(frames);
      if (opts.count !== undefined && frames >= opts.count) break;
    }
  } finally {
    await src.close();
  }
  let fps = src.info.fps ?? null;
  if (fps === null && frames > 1 && first !== undefined && last !== undefined && last > first) fps = ((frames - 1) * 1e9) / Number(last - first);
  const out: ProbeResult = { frames, width, height, fps: fps === null ? null : Math.round(fps * 1000) / 1000, sha256: h.digest('hex') };
  if (sizesVary) out.sizesVary = true;
  return out;
}
