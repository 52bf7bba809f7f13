// One engine of host-scaling.ts, in its own worker thread: a busi-lite-sized random network
// on the single-thread plain-SIMD kernels. Warms up, says so, and on each 'go' times
// workerData.frames frames and posts the milliseconds.
import { parentPort, workerData } from 'node:worker_threads';
import { randomQModel } from '../../models/random-qmodel.js';
import { syntheticFrames } from '../../models/random-model.js';
import { createWasmKernels } from '../kernels/wasm-kernels.js';
import { createDirectEngine } from '../engine/direct-executor.js';

const port = parentPort!;
const arch = { filters: 16, height: 128, width: 128, channels: 1 };
const engine = createDirectEngine(randomQModel(arch, { seed: 1 }), createWasmKernels({ build: 'simd' }));
const frames = syntheticFrames(arch, 2, 1);
for (let i = 0; i < 4; i++) engine.run(frames[i & 1]);
port.on('message', () => {
  const t0 = performance.now();
  for (let i = 0; i < (workerData as { frames: number }).frames; i++) engine.run(frames[i & 1]);
  port.postMessage(performance.now() - t0);
});
port.postMessage('ready');
