// The parameter planes most ops share: a per-channel int32 array (bias,
// multiplier, shift), a per-channel int8 array (affine weights), and a whole
// int8 table (the sigmoid LUT). Packed conv weights are conv.ts's own plane.
import type { ParamPlane, PlaneTarget } from './op-binding.js';

/** An int32 array of `channels` values (bias, multiplier, shift), sliceable by channel. */
export function int32Plane<P>(name: string, channels: number, values: (p: P) => Int32Array): ParamPlane<P> {
  return {
    name, category: 'params', perChannel: 4, bytes: 4 * channels,
    write: (k: PlaneTarget, p: P, at: number) => new Int32Array(k.heap, at, channels).set(values(p)),
  };
}

/** An int8 array, per channel (`perChannel` 1) or whole (`perChannel` 0). */
export function int8Plane<P>(name: string, category: ParamPlane['category'], bytes: number, perChannel: 0 | 1, values: (p: P) => Int8Array): ParamPlane<P> {
  return {
    name, category, perChannel, bytes,
    write: (k: PlaneTarget, p: P, at: number) => new Int8Array(k.heap, at, bytes).set(values(p)),
  };
}

/** Bias, multiplier and shift of a per-channel requantization. */
export function requantPlanes<P extends { bias: Int32Array; multiplier: Int32Array; shift: Int32Array }>(channels: number): ParamPlane<P>[] {
  return [
    int32Plane<P>('bias', channels, (p) => p.bias),
    int32Plane<P>('multiplier', channels, (p) => p.multiplier),
    int32Plane<P>('shift', channels, (p) => p.shift),
  ];
}
