// The heap of the threaded kernels: the caller's buffers in [0, userBytes), then (after a
// little slack for vector over-reads) one scratch region per worker thread, which a call's
// part on that thread uses instead of the caller's scratch (each concurrent part needs its
// own). Grows the shared memory when the caller asks for more.
import { HEAP_SLACK } from './wasm-kernels.js';

const PAGE = 65536;

export class KernelHeap {
  private user = 0;
  private base = 0;

  constructor(readonly memory: WebAssembly.Memory, readonly scratchBytes: number, readonly regions: number) {
    this.place();
  }

  /** bytes the caller owns, from 0 */
  get userBytes(): number { return this.user; }

  /** the memory's current buffer (replaced when it grows; shared) */
  get buffer(): ArrayBuffer { return this.memory.buffer as ArrayBuffer; }

  /** first byte of worker i's scratch region */
  scratch(i: number): number { return this.base + i * this.scratchBytes; }

  /** grow the caller's part to at least `bytes` (never shrinks) */
  ensure(bytes: number): ArrayBuffer {
    if (!Number.isInteger(bytes) || bytes < 0) throw new RangeError(`ensureHeap: bytes must be a non-negative integer, got ${bytes}`);
    if (bytes > this.user) {
      this.user = bytes;
      this.place();
    }
    return this.buffer;
  }

  private place(): void {
    this.base = Math.ceil((this.user + HEAP_SLACK) / 64) * 64;
    const need = this.base + this.regions * this.scratchBytes + HEAP_SLACK;
    const have = this.memory.buffer.byteLength;
    if (need > have) this.memory.grow(Math.ceil((need - have) / PAGE));
  }
}
