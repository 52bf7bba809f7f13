// Activation memory planning: given buffers with a size and a lifetime (the
// first and last op index that touch them), give each an offset in one arena so
// that no two buffers alive at the same time overlap, keeping the arena small.
//
// The greedy algorithm is the one of TensorFlow Lite Micro's
// greedy_memory_planner (see: tensorflow/lite/micro/memory_planner/
// greedy_memory_planner.h), which is good on the chain-like lifetimes of
// inference graphs and cheap enough to run at every model load:
//   1. sort buffers by size, largest first (ties: by order of addition, so the
//      plan is deterministic);
//   2. the first buffer goes at offset 0;
//   3. each next buffer is placed against the buffers already placed whose
//      lifetimes overlap its own (the others may share its bytes): walk those in
//      increasing offset order and take the first gap between them that fits;
//      if none fits, place it after the highest of them;
//   4. the arena size is the highest end offset.
// Placing large buffers first leaves the small ones to fill gaps; first fit
// keeps offsets low. It is not optimal (the problem is NP-hard), but on U-Net
// style graphs it is within a few percent of the live-bytes lower bound.
//
// Sizes are rounded up to `alignment` (default 16 bytes, one v128) so that
// every offset is aligned for SIMD loads.

export interface MemoryPlanner {
  /** add a buffer used from op `firstUse` to op `lastUse` (inclusive); returns its index */
  addBuffer(size: number, firstUse: number, lastUse: number): number;
  /** arena offset of buffer `index` (plans on first call after an addition) */
  offsetOf(index: number): number;
  /** bytes the arena needs for the plan */
  maxSize(): number;
  readonly bufferCount: number;
}

interface Buffer {
  size: number;
  firstUse: number;
  lastUse: number;
  offset: number;
}

export class GreedyMemoryPlanner implements MemoryPlanner {
  private readonly buffers: Buffer[] = [];
  private planned = false;
  private arenaSize = 0;

  constructor(readonly alignment = 16) {
    if (!Number.isInteger(alignment) || alignment < 1 || (alignment & (alignment - 1)) !== 0) {
      throw new RangeError(`planner alignment must be a power of two, got ${alignment}`);
    }
  }

  get bufferCount(): number {
    return this.buffers.length;
  }

  addBuffer(size: number, firstUse: number, lastUse: number): number {
    if (!Number.isInteger(size) || size < 0) throw new RangeError(`buffer size must be an integer >= 0, got ${size}`);
    if (!Number.isInteger(firstUse) || !Number.isInteger(lastUse) || firstUse > lastUse) {
      throw new RangeError(`buffer lifetime must be integers with firstUse <= lastUse, got [${firstUse}, ${lastUse}]`);
    }
    const a = this.alignment;
    this.buffers.push({ size: Math.ceil(size / a) * a, firstUse, lastUse, offset: -1 });
    this.planned = false;
    return this.buffers.length - 1;
  }

  offsetOf(index: number): number {
    const b = this.buffers[index];
    if (!b) throw new RangeError(`no buffer ${index} (planner holds ${this.buffers.length})`);
    this.plan();
    return b.offset;
  }

  maxSize(): number {
    this.plan();
    return this.arenaSize;
  }

  private plan(): void {
    if (this.planned) return;
    const order = this.buffers.map((_, i) => i).sort((i, j) => this.buffers[j].size - this.buffers[i].size || i - j);
    // buffers placed so far, kept sorted by offset (the walk of step 3)
    const placed: Buffer[] = [];
    let arena = 0;
    for (const i of order) {
      const b = this.buffers[i];
      let candidate = 0;
      for (const p of placed) {
        if (p.lastUse < b.firstUse || p.firstUse > b.lastUse) continue; // never alive together
        if (p.offset >= candidate + b.size) break; // the gap before p fits
        candidate = Math.max(candidate, p.offset + p.size);
      }
      b.offset = candidate;
      // insert keeping offset order (stable for equal offsets)
      let at = placed.length;
      while (at > 0 && placed[at - 1].offset > candidate) at--;
      placed.splice(at, 0, b);
      arena = Math.max(arena, candidate + b.size);
    }
    this.arenaSize = arena;
    this.planned = true;
  }
}

/**
 * The lower bound any plan must meet: the most bytes alive at one time
 * (with sizes rounded to `alignment`). Reports compare the plan against it.
 */
export function liveBytesLowerBound(buffers: readonly { size: number; firstUse: number; lastUse: number }[], alignment = 16): number {
  const events = new Map<number, number>();
  for (const b of buffers) {
    const s = Math.ceil(b.size / alignment) * alignment;
    events.set(b.firstUse, (events.get(b.firstUse) ?? 0) + s);
    events.set(b.lastUse + 1, (events.get(b.lastUse + 1) ?? 0) - s);
  }
  let live = 0;
  let best = 0;
  for (const t of [...events.keys()].sort((x, y) => x - y)) {
    live += events.get(t)!;
    best = Math.max(best, live);
  }
  return best;
}
