// Widening for the 3x3 conv kernels' scratch: one input pixel's cin int8 values as i16
// (x - zp), or zeros where the pixel lies outside the image (padding counts as the zero point).

/** Write pixel (iy, ix)'s cin values (cin a multiple of 8, or whole vectors over-read) at dst as i16 x - zp, or 0 outside [0,inH) x [0,inW). */
// @ts-ignore: decorator
@inline export function widenPixel(dst: usize, inPtr: usize, iy: i32, ix: i32, inH: i32, inW: i32, cin: i32, zpv: v128): void {
  if (iy >= 0 && iy < inH && ix >= 0 && ix < inW) {
    const src = inPtr + usize((iy * inW + ix) * cin);
    for (let c = 0; c < cin; c += 8) v128.store(dst + usize(c << 1), i16x8.sub(v128.load8x8_s(src + usize(c)), zpv));
  } else {
    for (let c = 0; c < cin; c += 8) v128.store(dst + usize(c << 1), i32x4.splat(0));
  }
}
