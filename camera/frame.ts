// The one frame type and the one source interface every part of the data path
// uses: phantom, image folders, video files, capture cards, DICOM cine and the
// project's recordings all look the same to the pipeline, recorder and replayer.
import { EventEmitter } from 'node:events';
import type { ModelInput } from './preprocess.js';

/** When a frame was captured. */
export interface CaptureTime {
  /**
   * Monotonic nanoseconds on the source's own clock. Live sources use the host's
   * monotonic clock (process.hrtime); files use their stream timeline (pts, frame
   * time) starting at 0. Only differences are meaningful: pacing uses them.
   */
  monoNs: bigint;
  /** Wall-clock milliseconds since the Unix epoch (as Date.now()). */
  wallMs: number;
}

/** Anything a source knows about a frame beyond its pixels (copied into recordings). */
export type FrameMeta = Record<string, string | number | boolean>;

export interface Frame {
  /** 0, 1, 2, ... in delivery order; never reused, no gaps unless frames were dropped. */
  id: number;
  captureTime: CaptureTime;
  width: number;
  height: number;
  /** 8-bit grey, row-major, width * height bytes */
  pixels: Uint8Array;
  /** Ground-truth lesion mask when the source has one: width * height bytes, non-zero = lesion. */
  groundTruth?: Uint8Array;
  meta: FrameMeta;
  /**
   * The frame's position in its source when that is not its order of delivery:
   * a salvaged recording skips damaged frames, and the frames after a gap keep
   * their positions (so golden checks compare the same frames).
   */
  index?: number;
  /**
   * The model's input, already made from these pixels where the frame was captured (a capture
   * thread told the model's size and preprocessing: host/pipeline/threaded-source.ts), and the ms
   * that took there.
   */
  prepared?: { input: ModelInput; ms: number };
}

/**
 * Live sources: connecting -> live, and after a loss lost -> connecting -> (live | lost) with one
 * lost/connecting pair per failed reconnect attempt; ended is final (close or end of stream).
 * Files start live and end ended.
 */
export type SourceState = 'connecting' | 'live' | 'lost' | 'ended';

export interface StateChange {
  state: SourceState;
  previous: SourceState;
  /** why the state changed (an ffmpeg message, "end of stream"), when known */
  reason?: string;
  /** reconnect attempt number while connecting after a loss (1, 2, ...) */
  attempt?: number;
}

export interface SourceEvents {
  state: [StateChange];
  /** something the user should know that does not stop the source (a skipped file, a torn tail) */
  warning: [string];
}

/** What is known about a source before reading it; undefined fields are not known in advance. */
export interface SourceInfo {
  /** the spec it was opened from, e.g. "dicom:/data/cine.dcm" */
  spec: string;
  /** the scheme: phantom, folder, file, v4l2, dicom, rec */
  kind: string;
  /** a live source produces frames in real time and can be lost and come back */
  live: boolean;
  /** nominal frames per second */
  fps?: number;
  width?: number;
  height?: number;
  /** number of frames, for finite sources that know it */
  frameCount?: number;
}

/**
 * A stream of frames. Iterate it once (`for await`); break or `close()` to stop
 * early, which releases files and subprocesses. Errors on files are thrown from
 * the iterator as FileError; live sources reconnect instead and report it with
 * 'state' events.
 */
export interface FrameSource extends AsyncIterable<Frame> {
  readonly info: SourceInfo;
  readonly state: SourceState;
  /** frames a live source dropped in its own newest-wins queue because the consumer was slower */
  readonly dropped?: number;
  /** the warnings so far (also emitted as 'warning' events; those from opening come before any listener) */
  readonly warnings: readonly string[];
  on(event: 'state', listener: (change: StateChange) => void): this;
  on(event: 'warning', listener: (message: string) => void): this;
  off(event: 'state', listener: (change: StateChange) => void): this;
  off(event: 'warning', listener: (message: string) => void): this;
  close(): Promise<void>;
}

/**
 * Shared plumbing for sources: the state machine with its events and one-shot
 * iteration. Subclasses implement `frames()`.
 */
export abstract class BaseSource extends EventEmitter<SourceEvents> implements FrameSource {
  #state: SourceState;
  #iterated = false;
  protected closed = false;
  readonly warnings: string[] = [];

  constructor(readonly info: SourceInfo, initial: SourceState = 'connecting') {
    super();
    this.#state = initial;
  }

  get state(): SourceState {
    return this.#state;
  }

  protected setState(state: SourceState, reason?: string, attempt?: number): void {
    if (state === this.#state || this.#state === 'ended') return; // ended is final
    const previous = this.#state;
    this.#state = state;
    this.emit('state', { state, previous, reason, attempt });
  }

  /** Record a warning and emit it. */
  warn(message: string): void {
    this.warnings.push(message);
    this.emit('warning', message);
  }

  protected abstract frames(): AsyncGenerator<Frame>;

  async *[Symbol.asyncIterator](): AsyncIterator<Frame> {
    if (this.#iterated) throw new Error(`${this.info.spec}: a frame source can be iterated only once`);
    this.#iterated = true;
    let reason = 'closed';
    try {
      for await (const f of this.frames()) {
        if (this.closed) break;
        yield f;
      }
      if (!this.closed) reason = 'end of stream';
    } catch (e) {
      reason = `error: ${(e as Error).message}`;
      throw e;
    } finally {
      this.setState('ended', reason);
      await this.close();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.setState('ended', 'closed');
  }
}

/** Monotonic clock in nanoseconds. */
export function monoNowNs(): bigint {
  return process.hrtime.bigint();
}
