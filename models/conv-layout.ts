// Convolution weight layouts and the one conversion between them. The project
// keeps OHWI (output channel, kernel row, kernel column, input channel: what
// the kernels and .aunet use); ONNX stores OIHW, Keras HWIO.
import type { ConvOp } from './graph.js';

export type ConvLayout = 'OHWI' | 'OIHW' | 'HWIO';

type Shape = Pick<ConvOp, 'cout' | 'cin' | 'k'>;

/** Element strides of (o, y, x, i) in `layout`. */
function strides(layout: ConvLayout, { cout, cin, k }: Shape): [number, number, number, number] {
  switch (layout) {
    case 'OHWI':
      return [k * k * cin, k * cin, cin, 1];
    case 'OIHW':
      return [cin * k * k, k, 1, k * k];
    case 'HWIO':
      return [1, k * cin * cout, cin * cout, cout];
  }
}

/** The weights `w` of a conv of `shape`, stored in `from`, rearranged into `to`. */
export function convertConvLayout(w: ArrayLike<number>, shape: Shape, from: ConvLayout, to: ConvLayout): Float32Array {
  const { cout, cin, k } = shape;
  const [fo, fy, fx, fi] = strides(from, shape);
  const [to_, ty, tx, ti] = strides(to, shape);
  const out = new Float32Array(cout * k * k * cin);
  for (let o = 0; o < cout; o++) {
    for (let y = 0; y < k; y++) {
      for (let x = 0; x < k; x++) {
        for (let i = 0; i < cin; i++) out[o * to_ + y * ty + x * tx + i * ti] = w[o * fo + y * fy + x * fx + i * fi];
      }
    }
  }
  return out;
}
