// Does an ONNX Resize/Upsample do exactly the network's nearest-neighbour x2
// (out[y][x] = in[y >> 1][x >> 1])? Rather than trusting attribute names, the
// check runs ONNX's own coordinate transform and rounding (operators.md,
// Resize) over every output index of the actual size, so any combination of
// coordinate_transformation_mode and nearest_mode that happens to be exact
// passes and any that shifts a row fails.

export interface ResizeSemantics {
  mode: string;
  coordinateTransformation: string;
  nearestMode: string;
}

/** Source index ONNX computes for output index x along one axis. */
export function nearestSource(s: ResizeSemantics, x: number, inLen: number, outLen: number, scale: number): number {
  let orig: number;
  switch (s.coordinateTransformation) {
    case 'half_pixel':
    case 'half_pixel_symmetric': // identical to half_pixel when out = scale * in exactly
      orig = (x + 0.5) / scale - 0.5;
      break;
    case 'pytorch_half_pixel':
      orig = outLen > 1 ? (x + 0.5) / scale - 0.5 : 0;
      break;
    case 'align_corners':
      orig = outLen === 1 ? 0 : (x * (inLen - 1)) / (outLen - 1);
      break;
    case 'asymmetric':
      orig = x / scale;
      break;
    case 'tf_half_pixel_for_nn':
      orig = (x + 0.5) / scale;
      break;
    default:
      return NaN;
  }
  let i: number;
  const frac = orig - Math.floor(orig);
  switch (s.nearestMode) {
    case 'round_prefer_floor':
      i = frac === 0.5 ? Math.floor(orig) : Math.round(orig);
      break;
    case 'round_prefer_ceil':
      i = frac === 0.5 ? Math.ceil(orig) : Math.round(orig);
      break;
    case 'floor':
      i = Math.floor(orig);
      break;
    case 'ceil':
      i = Math.ceil(orig);
      break;
    default:
      return NaN;
  }
  return Math.min(Math.max(i, 0), inLen - 1);
}

/** Why the resize is not the network's nearest x2 along an axis of length inLen, or null when it is. */
export function nearestX2Problem(s: ResizeSemantics, inLen: number): string | null {
  if (s.mode !== 'nearest') return `mode '${s.mode}': the network upsamples by nearest neighbour only`;
  const known = ['half_pixel', 'half_pixel_symmetric', 'pytorch_half_pixel', 'align_corners', 'asymmetric', 'tf_half_pixel_for_nn'];
  if (!known.includes(s.coordinateTransformation)) {
    return `coordinate_transformation_mode '${s.coordinateTransformation}' is not a plain x2 upsampling`;
  }
  if (!['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'].includes(s.nearestMode)) {
    return `nearest_mode '${s.nearestMode}' is unknown`;
  }
  const outLen = 2 * inLen;
  for (let x = 0; x < outLen; x++) {
    const src = nearestSource(s, x, inLen, outLen, 2);
    if (src !== x >> 1) {
      return `with coordinate_transformation_mode '${s.coordinateTransformation}' and nearest_mode '${s.nearestMode}' output index ${x} reads input ${src}, the network's nearest x2 reads ${x >> 1}`;
    }
  }
  return null;
}
