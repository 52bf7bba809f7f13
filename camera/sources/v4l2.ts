// v4l2:/dev/videoN — a capture card through ffmpeg's v4l2 demuxer. A live source:
//  - frames are drained from ffmpeg as they come and go through a newest-wins
//    queue (camera/queue.ts), so a slow consumer drops old frames (counted in
//    `dropped`) instead of building latency;
//  - when the device disappears, ffmpeg fails, no frame comes within `stall_ms`
//    of opening or the stream stalls (watchdog), the source goes 'lost' with the
//    cause and, for the live service (OpenOptions.reconnect), reconnects with
//    capped exponential backoff ('connecting' -> 'live'); frame ids keep
//    increasing across reconnects. Tools (probe, record, replay) must answer
//    instead: a missing device fails at open, and the first failure ends the
//    source with a FileError (CAPTURE_FAILED) naming the device and the cause.
// Test rigs: when the path is a FIFO instead of a character device, ffmpeg reads
// whatever stream is written into it (e.g. NUT from an ffmpeg lavfi generator)
// standing in for the card; everything else is the same code path.
import { accessSync, constants, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Frame } from '../frame.js';
import { BaseSource, monoNowNs } from '../frame.js';
import type { SourceOptions } from '../source-options.js';
import { NewestWinsQueue } from '../queue.js';
import { runFfmpeg, type FfmpegRun } from './ffmpeg.js';
import { FileError } from '../../common/errors.js';
import { fileKind, statInput } from '../../common/input-file.js';

export interface V4l2Options {
  size?: { width: number; height: number };
  fps?: number;
  inputFormat?: string;
  queue: number;
  retryMinMs: number;
  retryMaxMs: number;
  /** no frame for this long (after opening, or since the last one) counts as lost */
  stallMs: number;
  /** reconnect after a loss (the live service); else the first loss ends the source with an error */
  reconnect: boolean;
}

/** Backoff before reconnect attempt n (1, 2, ...): min * 2^(n-1), capped at max. */
export function backoffMs(attempt: number, minMs: number, maxMs: number): number {
  return Math.min(maxMs, minMs * 2 ** Math.max(0, attempt - 1));
}

class V4l2Source extends BaseSource {
  #queue: NewestWinsQueue<Frame>;
  #run: FfmpegRun | undefined;
  #cancelSleep: (() => void) | undefined;

  constructor(spec: string, private readonly device: string, private readonly o: V4l2Options) {
    super({ spec, kind: 'v4l2', live: true, fps: o.fps, width: o.size?.width, height: o.size?.height }, 'connecting');
    this.#queue = new NewestWinsQueue<Frame>(o.queue);
  }

  get dropped(): number {
    return this.#queue.dropped;
  }

  protected async *frames(): AsyncGenerator<Frame> {
    void this.#supervise();
    for await (const f of this.#queue) yield f;
  }

  async #supervise(): Promise<void> {
    let id = 0;
    let attempt = 0;
    let reason = 'starting';
    while (!this.closed) {
      this.setState('connecting', reason, attempt || undefined);
      const args = this.#inputArgs();
      if (typeof args === 'string') {
        reason = args;
      } else {
        const run = (this.#run = runFfmpeg(args, this.device, true));
        let lastFrame = 0;
        const opened = performance.now();
        // a device that opens but sends nothing is as lost as one that stops sending
        const silent = () => performance.now() - (lastFrame || opened) > this.o.stallMs;
        // the watchdog's kill makes ffmpeg fail: then silence is the cause, not ffmpeg's exit
        const why = (e?: Error) => (silent() ? (lastFrame ? `stream stalled (no frame for ${this.o.stallMs} ms)` : `no frames within ${this.o.stallMs} ms of opening the device`) : (e?.message ?? 'stream ended'));
        const watchdog = setInterval(() => {
          if (silent()) run.kill();
        }, Math.min(500, this.o.stallMs));
        try {
          for await (const raw of run.frames) {
            if (this.closed) break;
            lastFrame = performance.now();
            if (this.state !== 'live') {
              this.setState('live', 'receiving frames');
              attempt = 0;
            }
            this.#queue.push({
              id: id++,
              captureTime: { monoNs: monoNowNs(), wallMs: Date.now() },
              width: raw.width,
              height: raw.height,
              pixels: raw.pixels,
              meta: { source: 'v4l2', device: this.device, ...(raw.ptsTime !== undefined ? { ptsTime: raw.ptsTime } : {}) },
            });
          }
          reason = why();
          // a test rig's FIFO writer may finish: for a tool that is the end of the stream
          if (reason === 'stream ended' && lastFrame && !this.o.reconnect) break;
        } catch (e) {
          reason = why(e as Error);
        } finally {
          clearInterval(watchdog);
          this.#run = undefined;
        }
      }
      if (this.closed) break;
      attempt++;
      this.setState('lost', reason); // every failed attempt is published, with its reason
      if (!this.o.reconnect) {
        this.#queue.fail(new FileError(this.device, `capture failed: ${reason}`, 'CAPTURE_FAILED'));
        return;
      }
      await this.#sleep(backoffMs(attempt, this.o.retryMinMs, this.o.retryMaxMs));
    }
    this.#queue.close();
  }

  /** ffmpeg input arguments, or why the device cannot be opened now. */
  #inputArgs(): string[] | string {
    const problem = deviceProblem(this.device);
    if (problem) return `capture device ${problem}`;
    // absolute, so that a device path can never be read as an ffmpeg option
    const input = resolve(this.device);
    const lowLatency = ['-fflags', 'nobuffer', '-probesize', '32768', '-analyzeduration', '0'];
    if (statSync(this.device).isFIFO()) return [...lowLatency, '-i', input];
    const o = this.o;
    return [...lowLatency, '-f', 'v4l2',
      ...(o.inputFormat ? ['-input_format', o.inputFormat] : []),
      ...(o.size ? ['-video_size', `${o.size.width}x${o.size.height}`] : []),
      ...(o.fps ? ['-framerate', String(o.fps)] : []),
      '-i', input];
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.#cancelSleep = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  override async close(): Promise<void> {
    await super.close();
    this.#run?.kill();
    this.#cancelSleep?.();
    this.#queue.close();
  }
}

/** Why `device` cannot be captured from now (missing, unreadable, not a device), or undefined. */
function deviceProblem(device: string): string | undefined {
  let st;
  try {
    st = statSync(device);
  } catch {
    return 'is not present';
  }
  // a FIFO stands in for the card in test rigs (see the header)
  if (!st.isCharacterDevice() && !st.isFIFO()) return `is ${fileKind(st)}, not a capture device`;
  try {
    accessSync(device, constants.R_OK);
  } catch {
    return 'cannot be read: permission denied (add the user to the video group)';
  }
  return undefined;
}

export async function openV4l2(device: string, opts: SourceOptions, spec: string): Promise<V4l2Source> {
  if (!opts.open.reconnect) {
    // a tool answers at once: a device that is not there now will not be waited for
    statInput(device, 'capture device');
    const problem = deviceProblem(device);
    if (problem) throw new FileError(device, `capture device ${problem}`, 'CAPTURE_FAILED');
  }
  return new V4l2Source(spec, device, {
    reconnect: opts.open.reconnect ?? false,
    size: opts.size('size'),
    fps: opts.number('fps', undefined, 0.1, 1000),
    inputFormat: opts.string('input_format'),
    queue: opts.int('queue', 2, 1, 1000),
    retryMinMs: opts.int('retry_min_ms', 250, 1, 60000),
    retryMaxMs: opts.int('retry_max_ms', 5000, 1, 600000),
    stallMs: opts.int('stall_ms', 3000, 50, 600000),
  });
}
