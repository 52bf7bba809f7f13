// Capture times for the pipeline. A live source (capture card) stamps its own
// frames. A recorded one (file, folder, DICOM, phantom) is replayed either in
// real time, each frame released when a camera would have delivered it and
// stamped with that moment, or as fast as possible, stamped when read. So
// capture-to-publish latency always means the same thing.
import type { Frame, FrameSource } from '../../camera/frame.js';

/** Wall-clock ms with sub-ms resolution, on the Date.now() scale. */
export function wallNow(): number {
  return performance.timeOrigin + performance.now();
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function* pacedFrames(source: FrameSource, realtime: boolean, fallbackFps = 30): AsyncGenerator<Frame> {
  if (source.info.live) {
    yield* source;
    return;
  }
  const period = 1000 / (source.info.fps ?? fallbackFps);
  let t0Mono: bigint | null = null;
  let t0Wall = 0;
  let index = 0;
  for await (const f of source) {
    if (!realtime) {
      yield { ...f, captureTime: { monoNs: f.captureTime.monoNs, wallMs: wallNow() } };
      continue;
    }
    if (t0Mono === null) {
      t0Mono = f.captureTime.monoNs;
      t0Wall = wallNow();
    }
    // sources without a timeline (all stamps equal) play at their nominal rate
    let offset = Number(f.captureTime.monoNs - t0Mono) / 1e6;
    if (index > 0 && offset === 0) offset = index * period;
    index++;
    let target = t0Wall + offset;
    const now = wallNow();
    if (now - target > period) {
      // the source itself cannot keep its rate (decoding or generating is too slow):
      // shift the timeline instead of letting capture stamps, and latency, creep;
      // the lower rate shows as fps in
      t0Wall += now - target;
      target = now;
    }
    const wait = target - now;
    if (wait > 1) await sleep(wait);
    // released early by timer slack: stamped now; late within a period: stamped when due
    yield { ...f, captureTime: { monoNs: f.captureTime.monoNs, wallMs: Math.min(target, wallNow()) } };
  }
}
