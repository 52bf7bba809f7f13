// Golden outputs for regression testing a replay: per source frame, the sha256
// of the predicted mask and of each attention map, plus the mask itself (run-
// length coded) so that a later run can say how much a differing mask moved
// (Dice against the golden). JSON, format "aunet-golden" v1:
//   {format, version, source, model: {file, sha256}, width, height,
//    frames: {"<source frame index>": {mask, attention: [a1..a4], runs}}}
// `runs`: alternating run lengths of 0s and 1s over the row-major mask, 0s first.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import type { InferenceResult } from '../engine/engine.js';
import { FileError } from '../../common/errors.js';
import { dice } from '../../models/fidelity.js';

export interface GoldenEntry {
  mask: string;
  attention: string[];
  runs: number[];
}

export interface GoldenFile {
  format: 'aunet-golden';
  version: 1;
  source: string;
  model: { file: string; sha256: string };
  width: number;
  height: number;
  frames: Record<string, GoldenEntry>;
}

export interface GoldenDiff {
  sourceIndex: number;
  /** replay id of the frame that differed */
  id: number;
  maskDiffers: boolean;
  /** which of a1..a4 differ (1-based) */
  attentionDiffers: number[];
  /** Dice of this run's mask against the golden one (1 = identical masks) */
  dice: number;
}

const sha = (d: Uint8Array) => createHash('sha256').update(d).digest('hex');

export function goldenEntry(r: InferenceResult): GoldenEntry {
  return { mask: sha(r.mask), attention: r.attention.map((a) => sha(a.data)), runs: encodeRuns(r.mask) };
}

export function encodeRuns(mask: Uint8Array): number[] {
  const runs: number[] = [];
  let cur = 0;
  let n = 0;
  for (let i = 0; i < mask.length; i++) {
    const v = mask[i] ? 1 : 0;
    if (v === cur) n++;
    else {
      runs.push(n);
      cur = v;
      n = 1;
    }
  }
  runs.push(n);
  return runs;
}

export function decodeRuns(runs: number[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let p = 0;
  runs.forEach((n, i) => {
    if (i % 2 === 1) out.fill(1, p, p + n);
    p += n;
  });
  if (p !== length) throw new RangeError(`golden mask runs cover ${p} pixels, expected ${length}`);
  return out;
}

/** A golden file being recorded (first run) or checked against (later runs). */
export class Golden {
  readonly recording: boolean;
  readonly diffs: GoldenDiff[] = [];
  /** frames checked against an existing entry */
  checked = 0;
  /** frames that had no golden entry (recorded into it) */
  added = 0;
  readonly #data: GoldenFile;

  constructor(readonly file: string, init: Omit<GoldenFile, 'format' | 'version' | 'frames'>) {
    if (existsSync(file)) {
      let data: GoldenFile;
      try {
        data = JSON.parse(readFileSync(file, 'utf8')) as GoldenFile;
      } catch (e) {
        throw new FileError(file, `not a readable golden file: ${(e as Error).message}`, 'BAD_GOLDEN');
      }
      if (data.format !== 'aunet-golden' || data.version !== 1 || typeof data.frames !== 'object') {
        throw new FileError(file, 'not an aunet golden file (format "aunet-golden" v1)', 'BAD_GOLDEN');
      }
      if (data.width !== init.width || data.height !== init.height) {
        throw new FileError(file, `golden masks are ${data.width}x${data.height} but this model outputs ${init.width}x${init.height}`, 'BAD_GOLDEN');
      }
      this.#data = data;
      this.recording = false;
    } else {
      this.#data = { format: 'aunet-golden', version: 1, ...init, frames: {} };
      this.recording = true;
    }
  }

  get model(): GoldenFile['model'] {
    return this.#data.model;
  }

  /** Record or check one frame's result; returns the diff when it differs. */
  check(sourceIndex: number, id: number, r: InferenceResult): GoldenDiff | undefined {
    const now = goldenEntry(r);
    const old = this.#data.frames[sourceIndex];
    if (!old) {
      this.#data.frames[sourceIndex] = now;
      this.added++;
      return undefined;
    }
    this.checked++;
    const attentionDiffers = now.attention.flatMap((h, i) => (h !== old.attention[i] ? [i + 1] : []));
    if (now.mask === old.mask && attentionDiffers.length === 0) return undefined;
    const d: GoldenDiff = {
      sourceIndex,
      id,
      maskDiffers: now.mask !== old.mask,
      attentionDiffers,
      dice: dice(r.mask, decodeRuns(old.runs, r.mask.length)),
    };
    this.diffs.push(d);
    return d;
  }

  /** The golden mask of a frame (0/1), when there is one. */
  expectedMask(sourceIndex: number, length: number): Uint8Array | undefined {
    const e = this.#data.frames[sourceIndex];
    return e ? decodeRuns(e.runs, length) : undefined;
  }

  /** Write the file when recording, or when new frames were added to it. */
  save(): void {
    if (this.recording || this.added > 0) writeFileSync(this.file, JSON.stringify(this.#data) + '\n');
  }
}
