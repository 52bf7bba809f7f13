// NumPy .npy (format 1.0) for uint8 arrays: what `aunet dataset export` hands
// to the Python training. Hand-written because the format is a 10-line header
// plus raw bytes and no maintained Node package writes it.
import { openSync, writeSync, closeSync, readFileSync } from 'node:fs';

function header(shape: number[]): Buffer {
  const dict = `{'descr': '|u1', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  // magic(6) + version(2) + len(2) + dict + padding + '\n' is a multiple of 64
  const total = Math.ceil((10 + dict.length + 1) / 64) * 64;
  const h = Buffer.alloc(total, 0x20);
  h.write('\x93NUMPY', 0, 'latin1');
  h[6] = 1;
  h[7] = 0;
  h.writeUInt16LE(total - 10, 8);
  h.write(dict, 10, 'latin1');
  h[total - 1] = 0x0a;
  return h;
}

/** Streams a uint8 array of a known shape to a .npy file, one chunk at a time. */
export class NpyWriter {
  private fd: number;
  private written = 0;
  private readonly expected: number;
  constructor(readonly file: string, readonly shape: number[]) {
    this.expected = shape.reduce((a, b) => a * b, 1);
    this.fd = openSync(file, 'w');
    writeSync(this.fd, header(shape));
  }
  write(chunk: Uint8Array): void {
    writeSync(this.fd, chunk);
    this.written += chunk.length;
  }
  close(): void {
    closeSync(this.fd);
    if (this.written !== this.expected) throw new Error(`${this.file}: wrote ${this.written} bytes, shape needs ${this.expected}`);
  }
}

/** Reads a uint8 C-order .npy (for tests and checks). */
export function readNpyU8(file: string): { shape: number[]; data: Uint8Array } {
  const b = readFileSync(file);
  if (b.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`${file}: not a .npy file`);
  const len = b.readUInt16LE(8);
  const dict = b.toString('latin1', 10, 10 + len);
  if (!/'descr': '\|u1'/.test(dict) || /'fortran_order': True/.test(dict)) throw new Error(`${file}: not a C-order uint8 array`);
  const m = /'shape': \(([^)]*)\)/.exec(dict);
  if (!m) throw new Error(`${file}: no shape in header`);
  const shape = m[1].split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  return { shape, data: new Uint8Array(b.buffer, b.byteOffset + 10 + len, b.length - 10 - len) };
}
