// Our int8 runtime against onnxruntime in one run: onnxruntime-web (WebAssembly, SIMD) and
// onnxruntime-node (native), each as float32 and as int8 QDQ (models/onnx/qdq.ts), at 1 and
// 2 threads, and ours at the same thread counts, on one bench variant; prints the machine,
// the load average, a table of median ms per frame, CPU ms per frame and GMAC/s, and each
// figure's ratio to ours at 1 thread. Not part of npm test; run on a quiet machine:
//   node --import tsx tests/perf/peers.bench.ts [--model seed|mid|lite] [--frames 7] [--threads 1,2]
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { benchModels, DEFAULT_FRAMES, timeEngine, variantMacs, type Variant } from '../../host/bench/network.js';
import { PEERS, peerModel, timePeer, type PeerPrecision } from '../../host/bench/onnx-peers.js';
import { createDirectEngine } from '../../host/engine/direct-executor.js';
import { createWasmKernels } from '../../host/kernels/wasm-kernels.js';
import { createThreadedKernels } from '../../host/kernels/threaded-kernels.js';

const argv = process.argv.slice(2);
const opt = (name: string, def: string) => { const i = argv.indexOf(`--${name}`); return i >= 0 ? argv[i + 1] : def; };
const variant = opt('model', 'seed') as Variant;
const frames = Number(opt('frames', String(Math.min(DEFAULT_FRAMES[variant], 7))));
const threads = opt('threads', '1,2').split(',').map(Number);
const CACHE = fileURLToPath(new URL('../../.tmp/bench-models', import.meta.url));
const PRECISIONS: PeerPrecision[] = ['float32', 'int8'];

const models = benchModels(variant, CACHE);
const macs = variantMacs(variant);

const load0 = os.loadavg();
const c0 = process.cpuUsage();
const rows: { what: string; ms: number; cpu: number }[] = [];
for (const n of threads) {
  const ks = n === 1 ? createWasmKernels({ build: 'simd' }) : await createThreadedKernels({ threads: n });
  const t = timeEngine(createDirectEngine(models.quantized, ks), models.frames, frames, 2);
  rows.push({ what: `aunet ${ks.name} int8, ${n} thread${n === 1 ? '' : 's'}`, ms: t.msPerFrame, cpu: t.cpuMsPerFrame });
  if ('close' in ks) await ks.close();
}
for (const n of threads) {
  for (const precision of PRECISIONS) {
    const model = await peerModel(precision, models.float, models.quantized);
    for (const p of PEERS) {
      const [t] = await timePeer(p, precision, [n], model, models.arch, models.frames, frames, macs, 3);
      rows.push({ what: t.runtime, ms: t.msPerFrame, cpu: t.cpuMsPerFrame });
    }
  }
}
const cpu = process.cpuUsage(c0);
const base = rows[0].ms;
console.log(`peers.bench ${variant} (${(macs / 1e9).toFixed(2)} GMAC/frame), ${frames} frames each after warm-up; ${os.cpus()[0]?.model ?? '?'}, ${os.cpus().length} cores, ` +
  `Node ${process.version}; ${new Date().toISOString()}; load average ${load0.map((l) => l.toFixed(2)).join(' ')} -> ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}; ` +
  `this process ${((cpu.user + cpu.system) / 1e6).toFixed(1)} CPU-s (onnxruntime-web children not counted; CPU ms/frame is per process)`);
console.log(`| runtime | median ms | CPU ms/frame | GMAC/s | ms / aunet 1-thread ms |`);
console.log(`| --- | --- | --- | --- | --- |`);
for (const r of rows) console.log(`| ${r.what} | ${r.ms.toFixed(1)} | ${r.cpu.toFixed(1)} | ${(macs / r.ms / 1e6).toFixed(1)} | ${(r.ms / base).toFixed(2)} |`);
process.exit(0); // onnxruntime-node keeps its thread pool alive
