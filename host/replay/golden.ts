// Golden outputs for regression testing a replay. A golden file holds, for every
// frame of one frame selection of one source, the sha256 of the frame as the
// source delivered it (its identity), of the predicted mask and of each
// attention map, plus the mask itself (run-length coded) so that a later run can
// say how much a differing mask moved (Dice against the golden).
// JSON, format "aunet-golden" v2:
//   {format, version, source: {spec, kind}, selection: {range, count, loop},
//    model: {file, sha256}, width, height, frameCount,
//    frames: {"<replay id>": {source, input, mask, attention: [a1..a4], runs}}}
// `source`: the frame's index in its source (a pass of --loop starts again at
// the --range start); `runs`: alternating run lengths of 0s and 1s over the
// row-major mask, 0s first. The file has no time stamps: the same run writes
// the same bytes.
//
// A check is lossless: every frame of the golden file must be checked against
// the same input (else the source is refused, BAD_GOLDEN, naming the first frame
// that is not the one the file was made from), and a frame the run did not check
// (dropped, lost, a source cut short) fails it like a differing one. The file is
// written only when it does not exist or the tester asks (--update-golden), in
// full, never extended.
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import type { InferenceResult } from '../engine/engine.js';
import { FileError, resourceError } from '../../common/errors.js';
import { dice } from '../../models/fidelity.js';

/** Which frames of the source a replay takes: the golden file records it, and a check must take the same. */
export interface Selection {
  /** --range as given (A:B), or null */
  range: string | null;
  /** --count, or null */
  count: number | null;
  loop: boolean;
}

export interface GoldenEntry {
  /** the frame's index in its source */
  source: number;
  /** sha256 of the frame's pixels as the source delivered them */
  input: string;
  mask: string;
  attention: string[];
  runs: number[];
}

export interface GoldenFile {
  format: 'aunet-golden';
  version: 2;
  source: { spec: string; kind: string };
  selection: Selection;
  model: { file: string; sha256: string };
  width: number;
  height: number;
  frameCount: number;
  frames: Record<string, GoldenEntry>;
}

/** A frame whose outputs differ from the golden ones. */
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

/** A golden frame this run did not check, and why (dropped by real-time pacing, lost, the source ended). */
export interface GoldenMissing {
  id: number;
  sourceIndex: number;
  why: string;
}

export const sha256 = (d: Uint8Array) => createHash('sha256').update(d).digest('hex');

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

export function selectionText(s: Selection): string {
  const parts = [s.range !== null ? `--range ${s.range}` : '', s.count !== null ? `--count ${s.count}` : '', s.loop ? '--loop' : ''].filter(Boolean);
  return parts.length ? parts.join(' ') : 'all frames';
}

export interface GoldenInit {
  source: { spec: string; kind: string };
  selection: Selection;
  model: { file: string; sha256: string };
  width: number;
  height: number;
}

/** A golden file being recorded (it does not exist, or --update-golden) or checked against. */
export class Golden {
  readonly recording: boolean;
  readonly diffs: GoldenDiff[] = [];
  readonly missing: GoldenMissing[] = [];
  /** frames checked against their golden entry */
  checked = 0;
  /** the file as read (checking) or being built (recording) */
  readonly #data: GoldenFile;
  readonly #seen = new Set<string>();
  /** notes for the tester (another model, another path with the same frames) */
  readonly notes: string[] = [];

  constructor(readonly file: string, init: GoldenInit, update = false) {
    this.recording = update || !existsSync(file);
    if (this.recording) {
      this.#data = { format: 'aunet-golden', version: 2, ...init, frameCount: 0, frames: {} };
      return;
    }
    this.#data = readGolden(file);
    const d = this.#data;
    if (d.width !== init.width || d.height !== init.height) {
      throw new FileError(file, `golden masks are ${d.width}x${d.height} but this model outputs ${init.width}x${init.height}`, 'BAD_GOLDEN', { hint: 'check with the model the golden file names, or rewrite it with --update-golden' });
    }
    if (selectionText(d.selection) !== selectionText(init.selection)) {
      throw new FileError(file, `made from ${selectionText(d.selection)} of its source, this run takes ${selectionText(init.selection)}`, 'BAD_GOLDEN', {
        hint: `run with the same frame selection (${selectionText(d.selection)}), or rewrite the file with --update-golden`,
      });
    }
    if (d.model.sha256 !== init.model.sha256) this.notes.push(`${file} was made with another model (${d.model.file}); differences are expected`);
    if (d.source.spec !== init.source.spec) this.notes.push(`${file} was made from ${d.source.spec}; checking ${init.source.spec} against it frame by frame (each frame's input hash must match)`);
  }

  get model(): GoldenFile['model'] {
    return this.#data.model;
  }

  get madeFrom(): GoldenFile['source'] {
    return this.#data.source;
  }

  get selection(): Selection {
    return this.#data.selection;
  }

  /** frames the golden file holds */
  get frameCount(): number {
    return this.#data.frameCount;
  }

  /**
   * Refuse up front a source that cannot hold the golden frames: a known frame
   * count (recordings, DICOM, folders) that gives another number of frames.
   */
  checkFrameCount(expected: number | undefined): void {
    if (this.recording || expected === undefined) return;
    if (expected !== this.#data.frameCount) {
      throw new FileError(this.file, `holds ${this.#data.frameCount} frames of ${this.#data.source.spec} (${selectionText(this.#data.selection)}), this source selection has ${expected}: it is not the source the file was made from`, 'BAD_GOLDEN');
    }
  }

  /**
   * Record or check one frame. Checking: a frame whose input is not the golden
   * one (or that the file does not hold) refuses the whole source (BAD_GOLDEN);
   * returns the diff when the outputs differ.
   */
  check(id: number, sourceIndex: number, pixels: Uint8Array, r: InferenceResult): GoldenDiff | undefined {
    const now: GoldenEntry = { source: sourceIndex, input: sha256(pixels), mask: sha256(r.mask), attention: r.attention.map((a) => sha256(a.data)), runs: encodeRuns(r.mask) };
    const key = String(id);
    this.#seen.add(key);
    if (this.recording) {
      this.#data.frames[key] = now;
      this.#data.frameCount++;
      return undefined;
    }
    const old = this.#data.frames[key];
    const made = `made from ${this.#data.source.spec}`;
    if (!old) {
      throw new FileError(this.file, `holds ${this.#data.frameCount} frames but the source delivers more (frame ${id}, source frame ${sourceIndex}): the source is not the one it was ${made}`, 'BAD_GOLDEN');
    }
    if (old.source !== sourceIndex || old.input !== now.input) {
      throw new FileError(this.file, `frame ${id} (source frame ${sourceIndex}) is not the frame it was ${made} (${old.source !== sourceIndex ? `that was source frame ${old.source}` : 'input sha256 differs'}): refusing to compare outputs of other frames`, 'BAD_GOLDEN');
    }
    this.checked++;
    const attentionDiffers = now.attention.flatMap((h, i) => (h !== old.attention[i] ? [i + 1] : []));
    if (now.mask === old.mask && attentionDiffers.length === 0) return undefined;
    const d: GoldenDiff = { sourceIndex, id, maskDiffers: now.mask !== old.mask, attentionDiffers, dice: dice(r.mask, decodeRuns(old.runs, r.mask.length)) };
    this.diffs.push(d);
    return d;
  }

  /** A frame the run scheduled but did not check (dropped by real-time pacing). */
  skip(id: number, sourceIndex: number, why: string): void {
    this.#seen.add(String(id));
    this.missing.push({ id, sourceIndex, why });
  }

  /** After the run: every golden frame the run never reached is missing (the source ended early, frames were lost). */
  finish(why = 'the source ended before it (a shorter, cut or salvaged source)'): void {
    if (this.recording) return;
    for (const [key, e] of Object.entries(this.#data.frames)) if (!this.#seen.has(key)) this.missing.push({ id: Number(key), sourceIndex: e.source, why });
    this.missing.sort((a, b) => a.id - b.id);
  }

  /** passed: every golden frame checked, none differs */
  get passed(): boolean {
    return this.diffs.length === 0 && this.missing.length === 0 && this.checked === this.#data.frameCount;
  }

  /** The golden mask of a frame (0/1), when there is one. */
  expectedMask(id: number, length: number): Uint8Array | undefined {
    const e = this.#data.frames[String(id)];
    return e ? decodeRuns(e.runs, length) : undefined;
  }

  /** Write the file (recording only), whole, through a temporary file: a failed write never leaves half a golden file. */
  save(): void {
    if (!this.recording) return;
    const tmp = `${this.file}.tmp-${process.pid}`;
    try {
      writeFileSync(tmp, JSON.stringify(this.#data) + '\n');
      renameSync(tmp, this.file);
    } catch (e) {
      throw resourceError(e, this.file) ?? new FileError(this.file, `cannot write the golden file: ${(e as Error).message}`, 'WRITE_FAILED');
    }
  }
}

function readGolden(file: string): GoldenFile {
  let data: GoldenFile;
  try {
    data = JSON.parse(readFileSync(file, 'utf8')) as GoldenFile;
  } catch (e) {
    throw new FileError(file, `not a readable golden file: ${(e as Error).message}`, 'BAD_GOLDEN');
  }
  if (data?.format !== 'aunet-golden' || typeof data.frames !== 'object' || data.frames === null) {
    throw new FileError(file, 'not an aunet golden file (format "aunet-golden")', 'BAD_GOLDEN');
  }
  if (data.version !== 2) {
    // v1 files hold no input hashes and were extended run by run: they cannot prove which frames they cover
    throw new FileError(file, `golden file version ${data.version} cannot be checked (it holds no input hashes, so it cannot prove which frames it covers)`, 'BAD_GOLDEN', { hint: 'rewrite it with --update-golden' });
  }
  if (!data.source || !data.selection || !Number.isInteger(data.frameCount)) throw new FileError(file, 'golden file lacks its source, selection or frame count', 'BAD_GOLDEN');
  return data;
}
