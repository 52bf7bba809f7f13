// Inference off the event loop: the engine of `aunet run` in a worker thread
// (host/box/engine-worker.ts), so the main thread only moves frames, publishes and serves
// the broker and HTTP. run() posts the preprocessed frame with its buffer transferred and
// resolves with the result, whose maps come back transferred, and the frame's buffer with
// them (InferenceResult.input): no frame is copied on the way. With request.threads > 1 the
// worker divides each layer over kernel threads of its own (host/kernels/threaded-kernels.ts).
import type { Worker } from 'node:worker_threads';
import type { QModel } from '../../models/qmodel.js';
import type { Arch } from '../../models/graph.js';
import type { InferenceResult } from '../engine/engine.js';
import type { EngineRequest, LoadedEngine } from '../load/engine-loader.js';
import { AunetError, isErrorCode } from '../../common/errors.js';
import { tsWorker } from '../../common/ts-worker.js';
import type { ModuleBuild } from '../kernels/wasm-kernels.js';

/** What the engine loader chose in the worker (kind, preset, fallback, note, threads and their OS ids: the inference thread's among them) */
type EngineChoice = Omit<LoadedEngine, 'engine' | 'close'>;

export type ToEngineWorker = { type: 'frame'; id: number; input: Uint8Array } | { type: 'close' };
export type FromEngineWorker =
  | ({ type: 'ready'; name: string; peakBytes: number } & EngineChoice)
  | { type: 'failed'; message: string; code?: string }
  | { type: 'result'; id: number; result: InferenceResult; input: Uint8Array; engineMs: number }
  | { type: 'error'; id: number; message: string; code?: string; input: Uint8Array };

/** A result of the worker: the engine's maps, the input frame handed back, and how long the engine ran in its thread (ms). */
export type WorkerResult = InferenceResult & { input: Uint8Array; engineMs: number };

function toError(m: { message: string; code?: string }): Error {
  return m.code && isErrorCode(m.code) ? new AunetError(m.code, m.message) : new Error(`inference thread: ${m.message}`);
}

/** A runtime build's module bytes (a firmware image's runtime section) for the engine to run instead of build/'s. */
export interface RuntimeModule {
  build: Exclude<ModuleBuild, 'debug'>;
  bytes: Uint8Array;
}

export class WorkerEngine {
  #next = 0;
  readonly #pending = new Map<number, { resolve: (r: WorkerResult) => void; reject: (e: Error) => void }>();

  private constructor(
    private readonly worker: Worker,
    readonly name: string,
    readonly arch: Arch,
    readonly peakBytes: number,
    /** threadIds: the OS ids of the inference thread and its kernel threads (Linux; empty where the OS does not say) */
    readonly choice: EngineChoice,
  ) {
    worker.on('message', (m: FromEngineWorker) => {
      if (m.type !== 'result' && m.type !== 'error') return;
      const p = this.#pending.get(m.id);
      this.#pending.delete(m.id);
      if (this.#pending.size === 0) worker.unref();
      if (m.type === 'result') p?.resolve({ ...m.result, input: m.input, engineMs: m.engineMs });
      else p?.reject(toError(m));
    });
    worker.on('error', (e) => this.#failAll(e));
    worker.on('exit', (code) => this.#failAll(new Error(`inference thread exited with code ${code}`)));
    worker.unref(); // an idle engine does not keep the process alive; a frame in flight does (run)
  }

  /**
   * Start the thread and its engine (request.threads kernel threads); resolves once the engine is ready
   * (or rejects with its error). `runtime`: a kernel module of the build it names (a firmware image's)
   * instead of build/'s.
   */
  static async start(model: QModel, request: Omit<EngineRequest, 'kernels'>, runtime?: RuntimeModule): Promise<WorkerEngine> {
    const worker = tsWorker(new URL('./engine-worker.ts', import.meta.url), { workerData: { model, request, runtime } });
    let onMessage: (m: FromEngineWorker) => void = () => {};
    let onError: (e: Error) => void = () => {};
    let onExit: (code: number) => void = () => {};
    const first = await new Promise<FromEngineWorker>((resolve, reject) => {
      onMessage = resolve;
      onError = reject;
      onExit = (code) => reject(new Error(`inference thread exited with code ${code} while starting`));
      worker.once('message', onMessage).once('error', onError).once('exit', onExit);
    }).finally(() => worker.off('message', onMessage).off('error', onError).off('exit', onExit));
    if (first.type !== 'ready') {
      await worker.terminate();
      throw toError(first as { message: string; code?: string });
    }
    const { type: _ready, name, peakBytes, ...choice } = first;
    return new WorkerEngine(worker, name, model.arch, peakBytes, choice);
  }

  /** Infer one preprocessed frame; `input`'s buffer is transferred and comes back as result.input. */
  run(input: Uint8Array): Promise<WorkerResult> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.worker.ref();
      this.worker.postMessage({ type: 'frame', id, input } satisfies ToEngineWorker, [input.buffer as ArrayBuffer]);
    });
  }

  async close(): Promise<void> {
    this.worker.postMessage({ type: 'close' } satisfies ToEngineWorker);
    await this.worker.terminate();
  }

  #failAll(e: Error): void {
    for (const p of this.#pending.values()) p.reject(e);
    this.#pending.clear();
  }
}
