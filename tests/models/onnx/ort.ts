// Runs an ONNX model of the network in onnxruntime-node on 8-bit NHWC pixels
// (fed as pixel / 255 in the model's own input layout); returns its outputs.
import * as ort from 'onnxruntime-node';
import type { Arch } from '../../../models/graph.js';

export async function runOrt(model: string | Uint8Array, pixels: Uint8Array, arch: Arch, layout: 'NCHW' | 'NHWC'): Promise<Record<string, Float32Array>> {
  const opts = { logSeverityLevel: 3 as const };
  const session = typeof model === 'string' ? await ort.InferenceSession.create(model, opts) : await ort.InferenceSession.create(model, opts);
  try {
    const { height: H, width: W, channels: C } = arch;
    const x = new Float32Array(H * W * C);
    if (layout === 'NHWC') for (let i = 0; i < x.length; i++) x[i] = pixels[i] / 255;
    else for (let c = 0; c < C; c++) for (let i = 0; i < H * W; i++) x[c * H * W + i] = pixels[i * C + c] / 255;
    const dims = layout === 'NHWC' ? [1, H, W, C] : [1, C, H, W];
    const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', x, dims) });
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.data as Float32Array]));
  } finally {
    await session.release();
  }
}
