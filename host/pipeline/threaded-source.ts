// A frame source that runs in a worker thread (source-worker.ts) and is paced
// there. Realtime: the worker never waits for the pipeline; at most
// `maxInflight` frames travel between the threads, more are dropped in the
// worker and reported. Lossless (replay as fast as possible): the worker sends
// a frame only against a credit, so every frame is processed. Told the model's
// input, the worker also preprocesses each frame, so that the main thread only
// moves frames, publishes and serves.
import { EventEmitter } from 'node:events';
import type { Worker } from 'node:worker_threads';
import type { Frame, FrameSource, SourceInfo, SourceState, StateChange } from '../../camera/frame.js';
import { checkSize, type ModelSize } from '../../camera/preprocess.js';
import type { Preprocessing } from '../../models/float-model.js';
import { AunetError, isErrorCode } from '../../common/errors.js';
import { tsWorker } from '../../common/ts-worker.js';

export interface WorkerInit {
  spec: string;
  realtime: boolean;
  lossless: boolean;
  maxInflight: number;
  prefetch: number;
  prepare?: FramePreparation;
}

/** What the capture thread needs to make the model's input from each frame (camera/preprocess.ts). */
export interface FramePreparation {
  size: ModelSize;
  preprocessing: Preprocessing;
}

export type ToWorker = { type: 'ack' } | { type: 'credit' } | { type: 'close' };
export type FromWorker =
  | { type: 'info'; info: SourceInfo; state: SourceState }
  | { type: 'state'; change: StateChange }
  | { type: 'warning'; message: string }
  | { type: 'frame'; frame: Frame; dropped: number }
  | { type: 'end'; dropped: number }
  | { type: 'error'; name: string; message: string; code?: string; exitCode?: number };

export interface ThreadedSourceOptions {
  /** pace recorded sources in real time (else as fast as possible) */
  realtime: boolean;
  maxInflight?: number;
  /** make each frame's model input in the capture thread (`Frame.prepared`) */
  prepare?: FramePreparation;
}

interface Events {
  state: [StateChange];
  warning: [string];
  /** frames dropped in the worker because the pipeline was not taking them */
  drop: [number];
}

export class ThreadedSource extends EventEmitter<Events> implements FrameSource {
  /** frames arrive already paced and stamped */
  readonly paced = true;
  readonly warnings: string[] = [];
  #state: SourceState;
  #frames: Frame[] = [];
  #waiter: (() => void) | null = null;
  #ended = false;
  #error: Error | null = null;
  #iterated = false;
  #closed = false;
  #exited = false;

  private constructor(
    private readonly worker: Worker,
    readonly info: SourceInfo,
    state: SourceState,
    readonly lossless: boolean,
  ) {
    super();
    this.#state = state;
    worker.on('message', (m: FromWorker) => this.#onMessage(m));
    worker.on('error', (e) => this.#fail(e));
    worker.on('exit', () => {
      this.#exited = true;
      this.#ended = true;
      this.#wake();
    });
  }

  static async open(spec: string, o: ThreadedSourceOptions): Promise<ThreadedSource> {
    // a bad size fails here, naming it, not as the first frame's error in the other thread
    if (o.prepare) checkSize(o.prepare.size);
    const init: WorkerInit = { spec, realtime: o.realtime, lossless: !o.realtime, maxInflight: o.maxInflight ?? 3, prefetch: 2, prepare: o.prepare };
    const worker = tsWorker(new URL('./source-worker.ts', import.meta.url), { workerData: init });
    const first = await new Promise<FromWorker>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    if (first.type === 'error') {
      await worker.terminate();
      throw toError(first);
    }
    if (first.type !== 'info') {
      await worker.terminate();
      throw new Error(`source worker: expected info, got ${first.type}`);
    }
    // the info is known only inside the worker; the live flag decides pacing there
    return new ThreadedSource(worker, first.info, first.state, init.lossless);
  }

  get state(): SourceState {
    return this.#state;
  }

  #onMessage(m: FromWorker): void {
    switch (m.type) {
      case 'frame': {
        let dropped = m.dropped;
        // realtime: only the newest frame waits here; older ones are dropped, not queued
        if (!this.lossless) {
          while (this.#frames.length > 0) {
            this.#frames.shift();
            this.worker.postMessage({ type: 'ack' } satisfies ToWorker);
            dropped++;
          }
        }
        if (dropped) this.emit('drop', dropped);
        this.#frames.push(m.frame);
        break;
      }
      case 'state':
        this.#state = m.change.state;
        this.emit('state', m.change);
        break;
      case 'warning':
        this.warnings.push(m.message);
        this.emit('warning', m.message);
        break;
      case 'end':
        if (m.dropped) this.emit('drop', m.dropped);
        this.#ended = true;
        break;
      case 'error':
        this.#fail(toError(m));
        break;
    }
    this.#wake();
  }

  #fail(e: Error): void {
    this.#error = e;
    this.#ended = true;
    this.#wake();
  }

  #wake(): void {
    const w = this.#waiter;
    this.#waiter = null;
    w?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Frame> {
    if (this.#iterated) throw new Error(`${this.info.spec}: a frame source can be iterated only once`);
    this.#iterated = true;
    try {
      for (;;) {
        if (this.#frames.length === 0) {
          if (this.#error) throw this.#error;
          if (this.#ended || this.#closed) break;
          await new Promise<void>((r) => (this.#waiter = r));
          continue;
        }
        const f = this.#frames.shift() as Frame;
        this.worker.postMessage({ type: 'ack' } satisfies ToWorker);
        if (this.lossless) this.worker.postMessage({ type: 'credit' } satisfies ToWorker);
        yield f;
      }
    } finally {
      await this.close();
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#wake();
    if (!this.#exited) {
      this.worker.postMessage({ type: 'close' } satisfies ToWorker);
      // give the source a moment to release files and subprocesses, then stop the thread
      const exited = new Promise<void>((r) => this.worker.once('exit', () => r()));
      const t = setTimeout(() => void this.worker.terminate(), 2000);
      await exited;
      clearTimeout(t);
    }
    if (this.#state !== 'ended') {
      const previous = this.#state;
      this.#state = 'ended';
      this.emit('state', { state: 'ended', previous, reason: 'closed' });
    }
  }
}

function toError(m: Extract<FromWorker, { type: 'error' }>): Error {
  if (m.code && isErrorCode(m.code)) return new AunetError(m.code, m.message);
  const e = new Error(m.message) as Error & { code?: string };
  e.name = m.name;
  if (m.code) e.code = m.code;
  return e;
}
