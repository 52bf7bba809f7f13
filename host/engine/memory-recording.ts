// Bytes an engine holds, by category, for memory reports (the idea of
// TensorFlow Lite Micro's RecordingMicroAllocator, see:
// tensorflow/lite/micro/recording_micro_allocator.h): each allocation at load
// is recorded with a category and a label, so a report can say how much is
// weights, how much per-op parameters and how much the activation arena.

export type MemoryCategory =
  /** packed conv and affine weights */
  | 'weights'
  /** per-channel bias, multiplier, shift, lookup tables */
  | 'params'
  /** the planned activation arena (input and outputs included) */
  | 'activations';

export interface MemoryRecord {
  category: MemoryCategory;
  /** what it is for, e.g. 'enc1.conv1 weights' */
  label: string;
  bytes: number;
}

export class MemoryRecording {
  private readonly list: MemoryRecord[] = [];

  record(category: MemoryCategory, label: string, bytes: number): void {
    this.list.push({ category, label, bytes });
  }

  get records(): readonly MemoryRecord[] {
    return this.list;
  }

  bytes(category: MemoryCategory): number {
    let s = 0;
    for (const r of this.list) if (r.category === category) s += r.bytes;
    return s;
  }

  get total(): number {
    return this.list.reduce((s, r) => s + r.bytes, 0);
  }

  /** { weights, params, activations, total } in bytes */
  summary(): Record<MemoryCategory | 'total', number> {
    return {
      weights: this.bytes('weights'),
      params: this.bytes('params'),
      activations: this.bytes('activations'),
      total: this.total,
    };
  }
}
