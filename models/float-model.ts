// A float model of the study's network: what importers produce and what the
// float reference, the quantizer and the ONNX exporter consume. Keys are the
// op names of models/graph.ts.
import type { Arch, Pads } from './graph.js';

export interface FloatConv {
  /** OHWI: weights[((o * k + ky) * k + kx) * cin + i] */
  weights: Float32Array;
  bias: Float32Array;
  /** the exporter's own padding (PyTorch padding=1 pads all four sides); absent = graph default */
  pads?: Pads;
}

/** Inference BatchNorm: y = gamma * (x - mean) / sqrt(variance + epsilon) + beta. */
export interface FloatBatchNorm {
  gamma: Float32Array;
  beta: Float32Array;
  mean: Float32Array;
  variance: Float32Array;
  epsilon: number;
}

export interface Preprocessing {
  /** the study stretched; letterbox keeps the aspect ratio and pads with black */
  resize: 'stretch' | 'letterbox';
  /** model input = pixel / 255 (the only normalisation the int8 input quantization assumes) */
  normalize: 'unit';
  /** CLAHE on the grey image before resizing (clip limit, tile grid) */
  clahe?: { clipLimit: number; tiles: number };
}

export interface FloatModel {
  arch: Arch;
  preprocessing: Preprocessing;
  /** conv op name (e.g. 'enc1.conv1', 'ag3.psi', 'out.conv') -> weights */
  convs: Record<string, FloatConv>;
  /** affine op name ('ag1.bn'..'ag4.bn') -> BatchNorm statistics */
  batchNorms: Record<string, FloatBatchNorm>;
  /** where the weights came from (file path, format), for provenance in .aunet headers */
  source?: { file?: string; format: string; sha256?: string };
}

export const DEFAULT_PREPROCESSING: Preprocessing = { resize: 'stretch', normalize: 'unit' };
