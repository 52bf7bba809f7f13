// Worker threads that run TypeScript modules. Node 20 does not apply the parent's tsx
// hooks (nor `--import tsx` in execArgv) to a worker's entry module, so a small JS
// bootstrap registers tsx in the thread and then imports the entry. The thread does not
// inherit the parent's execArgv: `--import tsx` there would start tsx a second time (it
// doubled a thread's start to 1.3-1.5 s on the 2-core box). V8 flags such as
// --experimental-wasm-relaxed-simd are process-wide and apply to the thread regardless.
import { Worker, type WorkerOptions } from 'node:worker_threads';

export function tsWorker(entry: URL, options: Omit<WorkerOptions, 'eval'> = {}): Worker {
  const api = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const code = `import(${api}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(code, { execArgv: [], ...options, eval: true });
}
