// The inference thread of `aunet run` (host/box/worker-engine.ts starts it): creates the
// engine (and, with request.threads > 1, the kernel threads it divides each layer over), then
// answers each frame message with the result. The frame's buffer comes in transferred and
// goes back transferred with the result's maps, so nothing of a frame is copied.
import { parentPort, workerData } from 'node:worker_threads';
import type { QModel } from '../../models/qmodel.js';
import { loadEngine, type EngineRequest } from '../load/engine-loader.js';
import type { FromEngineWorker, RuntimeModule, ToEngineWorker } from './worker-engine.js';
import { runtimeKernels } from './runtime-choice.js';
import { ownThreadId } from '../../common/thread-priority.js';

const { model, request, runtime } = workerData as { model: QModel; request: Omit<EngineRequest, 'kernels'>; runtime?: RuntimeModule };
const port = parentPort!;
try {
  // a firmware image's own kernel module on request.threads threads; otherwise the package's build
  const choice = await loadEngine(model, runtime ? { ...request, threads: undefined, kernels: () => runtimeKernels(runtime, request.threads ?? 1) } : request);
  const { engine, close: _close, ...chosen } = choice;
  // the kernel threads' OS ids and this thread's: the threads the live service runs first
  const threadIds = [ownThreadId(), ...choice.threadIds].filter((t): t is number => t !== null);
  port.postMessage({ type: 'ready', name: engine.name, peakBytes: engine.peakBytes, ...chosen, threadIds } satisfies FromEngineWorker);
  port.on('message', (m: ToEngineWorker) => {
    if (m.type === 'close') {
      port.close();
      process.exit(0);
    }
    try {
      const t0 = performance.now();
      const r = engine.run(m.input);
      const engineMs = performance.now() - t0;
      const maps = [r.prob.data, r.mask, ...r.attention.map((a) => a.data)];
      port.postMessage({ type: 'result', id: m.id, result: r, input: m.input, engineMs } satisfies FromEngineWorker, [m.input.buffer, ...maps.map((d) => d.buffer)] as ArrayBuffer[]);
    } catch (e) {
      const err = e as Error & { code?: string };
      port.postMessage({ type: 'error', id: m.id, message: err.message, code: err.code, input: m.input } satisfies FromEngineWorker, [m.input.buffer as ArrayBuffer]);
    }
  });
} catch (e) {
  const err = e as Error & { code?: string };
  port.postMessage({ type: 'failed', message: err.message, code: err.code } satisfies FromEngineWorker);
}
