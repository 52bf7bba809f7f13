// Views over the reference kernel set's heap (one ArrayBuffer, addressed by byte offsets).
export interface HeapViews {
  readonly i8: Int8Array;
  readonly u8: Uint8Array;
  /** int32 view; index with ptr >> 2 (per-channel arrays are 4-byte aligned) */
  readonly i32: Int32Array;
}

export function viewsOf(buffer: ArrayBuffer): HeapViews {
  return { i8: new Int8Array(buffer), u8: new Uint8Array(buffer), i32: new Int32Array(buffer, 0, buffer.byteLength >> 2) };
}

/** int32 at a 4-byte aligned byte offset */
export function i32At(h: HeapViews, ptr: number, index: number): number {
  if ((ptr & 3) !== 0) throw new RangeError(`int32 array pointer ${ptr} is not 4-byte aligned`);
  return h.i32[(ptr >> 2) + index];
}
