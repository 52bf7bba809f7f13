// Replays a source's frames, paced by camera/pacer.ts with the late-frame policy
// 'drop': at the recorded timestamps (realtime), a speed factor of them, a fixed
// fps, or as fast as possible. The anchors (Holoscan's
// replayer, PLUS's saved-data source, DeepStream) get three things wrong that we
// get right here:
//  - loops: each pass re-opens the source and re-anchors the clock, so the first
//    frame of a pass comes one frame interval after the last one of the previous
//    pass (no burst), and output ids keep counting up (no reuse, no gap);
//  - lateness: a frame whose slot passed more than `dropAfterMs` ago is dropped
//    (counted) instead of delivered late, so latency cannot creep; a frame late by
//    less is delivered and counted as behind;
//  - ids: every scheduled frame takes the next id, so gaps in delivered ids are
//    exactly the dropped frames.
import type { Frame, FrameSource } from './frame.js';
import { openSource } from './source.js';
import { Pacer, type Pace } from './pacer.js';
import { UsageError } from '../common/errors.js';

export interface ReplayOptions {
  pace: Pace;
  loop?: boolean;
  /** source frame indices [start, end) of every pass; end undefined = to the end */
  range?: { start: number; end?: number };
  /** stop after this many scheduled frames (delivered + dropped) */
  count?: number;
  /** drop a frame this late (ms); default: one frame interval, at least 5 ms */
  dropAfterMs?: number;
  signal?: AbortSignal;
  /** clock in ms (tests may inject one; default performance.now) */
  now?: () => number;
  /** replay a damaged recording's intact frames instead of failing (OpenOptions.salvage) */
  salvage?: boolean;
  /** each pass's source once open, before its first frame (a golden check reads its info) */
  onOpen?: (src: FrameSource, pass: number) => void;
  /** a frame dropped as too late: its replay id and source index */
  onDrop?: (id: number, sourceIndex: number) => void;
  /** the source's warnings (a torn tail, a skipped file, a salvage) */
  onWarning?: (message: string) => void;
}

export interface ReplayedFrame {
  /** the frame, with `id` replaced by the replay's own running id */
  frame: Frame;
  /** index of the frame in its source (0-based, before --range) */
  sourceIndex: number;
  /** the id the source gave it */
  sourceId: number;
  /** 0 for the first pass, 1 after the first loop, ... */
  pass: number;
  /** when it was due and when it was released, on the replay clock (ms) */
  dueMs: number;
  releasedMs: number;
}

export interface ReplayStats {
  /** frames delivered */
  delivered: number;
  /** frames skipped because they were too late */
  dropped: number;
  /** frames delivered late (but within the drop limit) */
  behind: number;
  passes: number;
  /** drops by a live source's own queue (frames that never reached the replayer) */
  sourceDropped: number;
}

export function parseRange(raw: string): { start: number; end?: number } {
  const m = /^(\d*):(\d*)$/.exec(raw);
  if (!m || (m[1] === '' && m[2] === '')) throw new UsageError(`--range must be A:B, A: or :B with frame indices (end exclusive), got "${raw}"`);
  const start = m[1] === '' ? 0 : Number(m[1]);
  const end = m[2] === '' ? undefined : Number(m[2]);
  if (end !== undefined && end <= start) throw new UsageError(`--range ${raw}: end must be after start`);
  return { start, end };
}

/** Replays `spec` with the given pacing; `stats` is updated as frames flow. */
export async function* replay(spec: string, o: ReplayOptions, stats: ReplayStats = newStats()): AsyncGenerator<ReplayedFrame, ReplayStats> {
  let nextId = 0;
  let scheduled = 0;
  let pacer: Pacer | undefined;
  for (let pass = 0; ; pass++) {
    const src = await openSource(spec, { salvage: o.salvage });
    for (const w of src.warnings) o.onWarning?.(w);
    if (o.onWarning) src.on('warning', o.onWarning);
    if (src.info.live && o.loop) {
      await src.close();
      throw new UsageError(`${spec} is live: --loop only applies to recorded sources`);
    }
    // A live source is paced by the world; only recorded ones are paced here.
    if (pacer) pacer.nextPass();
    else pacer = new Pacer({ pace: src.info.live ? { mode: 'afap' } : o.pace, late: 'drop', sourceFps: src.info.fps, lateAfterMs: o.dropAfterMs, now: o.now, signal: o.signal });
    stats.passes = pass + 1;
    let sourceIndex = -1;
    let scheduledInPass = 0;
    try {
      o.onOpen?.(src, pass);
      for await (const f of src) {
        // a salvaged recording's frames keep their positions across the damage it skipped,
        // and the ids skip the lost frames as they skip dropped ones
        const index = f.index ?? sourceIndex + 1;
        const lost = index - sourceIndex - 1;
        sourceIndex = index;
        if (o.range && sourceIndex < o.range.start) continue;
        if (lost > 0) nextId += Math.min(lost, sourceIndex - (o.range?.start ?? 0));
        if (o.range?.end !== undefined && sourceIndex >= o.range.end) break;
        if (o.signal?.aborted) return stats;
        const id = nextId++;
        scheduled++;
        scheduledInPass++;
        const r = await pacer.release(f);
        if (r.verdict === 'dropped') {
          stats.dropped++;
          o.onDrop?.(id, sourceIndex);
        } else {
          if (r.verdict === 'behind') stats.behind++;
          stats.delivered++;
          stats.sourceDropped = src.dropped ?? stats.sourceDropped;
          yield { frame: { ...f, id }, sourceIndex, sourceId: f.id, pass, dueMs: r.dueMs, releasedMs: r.releasedMs };
        }
        if (o.count !== undefined && scheduled >= o.count) return stats;
      }
    } finally {
      await src.close();
    }
    if (!o.loop) return stats;
    if (scheduledInPass === 0) throw new UsageError(`${spec}: no frames in ${o.range ? 'the --range' : 'the source'}, nothing to loop`);
  }
}

export function newStats(): ReplayStats {
  return { delivered: 0, dropped: 0, behind: 0, passes: 0, sourceDropped: 0 };
}
