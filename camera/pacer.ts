// Pacing a recorded source: each frame is released when a camera would have
// delivered it (at its recorded timestamps, a speed factor of them, a fixed
// fps), or at once (as fast as possible). The one pacer of the product: the
// live pipeline's capture thread and the replayer differ only in what happens
// to a frame that is later than `lateAfterMs`, the late-frame policy:
//  - 'shift' (the live pipeline): the source itself cannot keep its rate
//    (decoding or generating is too slow), so the timeline moves to now
//    instead of letting capture stamps, and latency, creep; the lower rate
//    shows as fps in;
//  - 'drop' (the replayer): the frame is skipped and counted, so latency cannot
//    creep and the gap shows in the ids.
// A frame late by less is released at once ('behind'). Frames without a
// timeline (all stamps equal) play at the source's nominal rate.
import type { Frame, FrameSource } from './frame.js';
import { wallNow } from '../common/clock.js';

export type Pace =
  | { mode: 'realtime' }
  | { mode: 'speed'; factor: number }
  | { mode: 'fps'; fps: number }
  | { mode: 'afap' };

export type LatePolicy = 'shift' | 'drop';

export interface PacerOptions {
  pace: Pace;
  late: LatePolicy;
  /** the source's nominal frame rate (default 30): the interval of frames without a timeline */
  sourceFps?: number;
  /** a frame later than this (ms) is shifted or dropped; default: one frame interval ('drop': at least 5 ms) */
  lateAfterMs?: number;
  /** the clock, in ms (default performance.now; the pipeline stamps with the wall clock) */
  now?: () => number;
  /** stops a wait early */
  signal?: AbortSignal;
}

export interface Release {
  /** 'behind': released late, within the limit; 'shifted': the timeline moved (policy shift); 'dropped': skip it (policy drop) */
  verdict: 'on-time' | 'behind' | 'shifted' | 'dropped';
  /** when it was due on the pacer's clock (as fast as possible: when it was released) */
  dueMs: number;
  releasedMs: number;
}

export class Pacer {
  /** the nominal interval between frames at this pace (ms) */
  readonly intervalMs: number;
  readonly lateAfterMs: number;
  readonly #o: PacerOptions;
  readonly #now: () => number;
  /** clock time of the pass's first frame; null until it arrives */
  #anchor: number | null = null;
  /** the earliest the next pass may start (one interval after the last frame) */
  #notBefore = -Infinity;
  #firstMono: bigint | null = null;
  #index = 0;
  #lastDue = 0;
  #lastInterval = Infinity;

  constructor(o: PacerOptions) {
    this.#o = o;
    this.#now = o.now ?? (() => performance.now());
    const p = o.pace;
    this.intervalMs = p.mode === 'fps' ? 1000 / p.fps : 1000 / (o.sourceFps ?? 30) / (p.mode === 'speed' ? p.factor : 1);
    this.lateAfterMs = o.lateAfterMs ?? (o.late === 'drop' ? Math.max(5, this.intervalMs) : this.intervalMs);
  }

  /**
   * Start a new pass of the source (a loop): its first frame comes one interval
   * after the last frame of this pass, or when it arrives if that is later,
   * never in a burst of catch-up frames.
   */
  nextPass(): void {
    this.#notBefore = this.#lastDue + this.intervalMs;
    this.#anchor = null;
    this.#firstMono = null;
    this.#index = 0;
  }

  /**
   * The earliest the next frame is likely due: one interval after the last (the shorter of the
   * nominal one and the last actual one, for timelines that jitter); -Infinity before the first.
   */
  nextDueMs(): number {
    return this.#anchor === null ? -Infinity : this.#lastDue + Math.min(this.intervalMs, this.#lastInterval);
  }

  /** Wait until `frame` is due; say whether to deliver it. */
  async release(frame: Frame): Promise<Release> {
    const now = this.#now();
    if (this.#o.pace.mode === 'afap') return { verdict: 'on-time', dueMs: now, releasedMs: now };
    // opening a source (starting ffmpeg) takes time: anchor at its first frame
    if (this.#anchor === null || this.#firstMono === null) {
      this.#anchor = Math.max(this.#notBefore, now);
      this.#firstMono = frame.captureTime.monoNs;
    }
    let due = this.#anchor + this.#offset(frame.captureTime.monoNs - this.#firstMono);
    this.#lastInterval = this.#index > 0 ? due - this.#lastDue : Infinity;
    this.#index++;
    this.#lastDue = due;
    const late = now - due;
    let verdict: Release['verdict'] = late > 1 ? 'behind' : 'on-time';
    if (late > this.lateAfterMs) {
      if (this.#o.late === 'drop') return { verdict: 'dropped', dueMs: due, releasedMs: now };
      this.#anchor += late;
      this.#lastDue = due = now;
      verdict = 'shifted';
    }
    // timers may fire a fraction of a millisecond early: wait until due
    for (let wait = due - now; wait > 0 && !this.#o.signal?.aborted; wait = due - this.#now()) await sleep(wait, this.#o.signal);
    return { verdict, dueMs: due, releasedMs: this.#now() };
  }

  /** ms after the pass's first frame at which the frame `sinceFirstNs` after it is due */
  #offset(sinceFirstNs: bigint): number {
    const p = this.#o.pace;
    if (p.mode === 'fps') return this.#index * this.intervalMs;
    const recorded = Number(sinceFirstNs) / 1e6 / (p.mode === 'speed' ? p.factor : 1);
    // a source without a timeline (every stamp equal) plays at its nominal rate
    return this.#index > 0 && recorded === 0 ? this.#index * this.intervalMs : recorded;
  }
}

/**
 * The live pipeline's capture: a live source as it comes (it stamps its own
 * frames); a recorded one paced in real time (each frame stamped when a camera
 * would have delivered it) or as fast as possible (stamped when read), with
 * the 'shift' policy, so capture-to-publish latency always means the same thing.
 *
 * In real time the next frame is read (decoded, generated) just before it is due,
 * not right after the last one was delivered: that moment is when inference of the
 * last frame starts, and a read there (the phantom: 4 ms of CPU per 320x240 frame)
 * took a core from it on every frame of a 2-core box (busi-lite in `aunet run`,
 * A/B in pipeline.bench: inference p50 16.5 -> 14.2 ms). The lead is the slowest
 * recent read x 1.5 + 2 ms; the next due time is estimated at the shorter of the
 * nominal and the last interval, so a frame read early only waits.
 */
export async function* pacedFrames(source: FrameSource, realtime: boolean): AsyncGenerator<Frame> {
  if (source.info.live) {
    yield* source;
    return;
  }
  const pacer = new Pacer({ pace: realtime ? { mode: 'realtime' } : { mode: 'afap' }, late: 'shift', sourceFps: source.info.fps, now: wallNow });
  const frames = source[Symbol.asyncIterator]();
  let readMs = 0;
  try {
    for (;;) {
      if (realtime) {
        const readAt = pacer.nextDueMs() - Math.min(pacer.intervalMs, 1.5 * readMs + 2);
        for (let wait = readAt - wallNow(); wait > 0; wait = readAt - wallNow()) await sleep(wait);
      }
      const t = wallNow();
      const r = await frames.next();
      if (r.done) return;
      readMs = Math.max(0.9 * readMs, wallNow() - t);
      const { dueMs } = await pacer.release(r.value);
      yield { ...r.value, captureTime: { monoNs: r.value.captureTime.monoNs, wallMs: dueMs } };
    }
  } finally {
    await frames.return?.();
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
