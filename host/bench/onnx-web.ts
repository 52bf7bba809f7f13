// The side-by-side baseline: the same float network, written as ONNX by our
// exporter (models/onnx/export.ts), run in onnxruntime-web in this process:
// WebAssembly backend, 1 thread, float32, SIMD (onnxruntime-web 1.2x ships only
// SIMD builds). Frames go in as pixel / 255, like the study's preprocessing.
import type { Arch } from '../../models/graph.js';
import type { FloatModel } from '../../models/float-model.js';
import { median, quantile } from './network.js';

export interface OnnxWebTiming {
  runtime: string;
  frames: number;
  msPerFrame: number;
  p90Ms: number;
  gmacPerSec: number;
  /** CPU time of this process per frame (onnxruntime-web runs on this thread with numThreads = 1) */
  cpuMsPerFrame: number;
  /** bytes of the exported ONNX model */
  onnxBytes: number;
  layout: 'NCHW' | 'NHWC';
}

export async function timeOnnxWeb(model: FloatModel, frames: Uint8Array[], n: number, macs: number, warmup = 1, onFrame?: (i: number) => void): Promise<OnnxWebTiming> {
  const { exportOnnx } = await import('../../models/onnx/export.js');
  const ort = await import('onnxruntime-web');
  const bytes = exportOnnx(model);
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  ort.env.logLevel = 'error';
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  try {
    const name = session.inputNames[0];
    const meta = (session as unknown as { inputMetadata?: { name: string; shape?: (number | string)[] }[] }).inputMetadata?.[0];
    const { height: H, width: W, channels: C } = model.arch;
    const layout = inputLayout(meta?.shape, model.arch);
    const dims = layout === 'NCHW' ? [1, C, H, W] : [1, H, W, C];
    const tensors = frames.map((f) => new ort.Tensor('float32', toFloat(f, model.arch, layout), dims));
    for (let i = 0; i < warmup; i++) await session.run({ [name]: tensors[i % tensors.length] });
    const ms: number[] = [];
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      const out = await session.run({ [name]: tensors[i % tensors.length] });
      ms.push(performance.now() - t0);
      for (const t of Object.values(out)) t.dispose();
      onFrame?.(i + 1);
    }
    const cpu = process.cpuUsage(cpu0);
    const med = median(ms);
    return {
      runtime: `onnxruntime-web ${ort.env.versions.web ?? ort.env.versions.common} (wasm, 1 thread, float32, simd)`,
      frames: n, msPerFrame: med, p90Ms: quantile(ms, 0.9), gmacPerSec: macs / (med * 1e6), cpuMsPerFrame: (cpu.user + cpu.system) / 1000 / n, onnxBytes: bytes.length, layout,
    };
  } finally {
    await session.release();
  }
}

/** NCHW unless the model's declared input shape is [1, H, W, C]. */
function inputLayout(shape: (number | string)[] | undefined, arch: Arch): 'NCHW' | 'NHWC' {
  if (shape && shape.length === 4 && shape[3] === arch.channels && shape[1] === arch.height && shape[2] === arch.width) return 'NHWC';
  return 'NCHW';
}

function toFloat(frame: Uint8Array, arch: Arch, layout: 'NCHW' | 'NHWC'): Float32Array {
  const { height: H, width: W, channels: C } = arch;
  const out = new Float32Array(H * W * C);
  if (layout === 'NHWC') {
    for (let i = 0; i < out.length; i++) out[i] = frame[i] / 255;
    return out;
  }
  for (let p = 0; p < H * W; p++) for (let c = 0; c < C; c++) out[c * H * W + p] = frame[p * C + c] / 255;
  return out;
}
