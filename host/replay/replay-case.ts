// One source replayed through the model, as one case of `aunet replay` (which
// may check many recordings in one run): paced by camera/replayer.ts, every
// delivered frame preprocessed and inferred, its outputs recorded into or
// checked against a golden file. Whatever goes wrong with the source (damage,
// a golden file it does not match, differing or unchecked frames) ends the case
// as its failure, an AunetError, with everything measured until then: one
// damaged recording fails its own case, not the whole run.
import { replay, newStats, type ReplayStats } from '../../camera/replayer.js';
import type { Pace } from '../../camera/pacer.js';
import type { FrameSource } from '../../camera/frame.js';
import { preprocess } from '../../camera/preprocess.js';
import { RecordingSource } from '../../camera/sources/recording.js';
import { AunetError, resourceError } from '../../common/errors.js';
import type { RgbImage } from '../../common/image-io.js';
import type { LoadedModel } from '../load/model-loader.js';
import type { LoadedEngine } from '../load/engine-loader.js';
import { Golden, type GoldenDiff, type Selection } from './golden.js';
import { parseSpec } from '../../camera/source.js';
import { overlayThumb, MAX_THUMBS, type FrameRecord } from './report.js';

export interface CaseOptions {
  pace: Pace;
  selection: Selection;
  range?: { start: number; end?: number };
  dropAfterMs?: number;
  salvage?: boolean;
  model?: { loaded: LoadedModel; engine: LoadedEngine; file: string };
  golden?: { file: string; update: boolean };
  /** keep thumbnails of differing frames (for a report) */
  thumbs: boolean;
  signal?: AbortSignal;
  onWarning?: (message: string) => void;
  onProgress?: (stats: ReplayStats) => void;
}

export interface CaseResult {
  spec: string;
  stats: ReplayStats;
  records: FrameRecord[];
  diffs: (GoldenDiff & { thumb?: RgbImage })[];
  golden?: Golden;
  warnings: string[];
  /** a salvaged recording: frames lost to damage */
  salvagedLost?: number;
  wallSeconds: number;
  /** why the case failed; undefined = passed */
  failure?: AunetError;
}

/** How many frames a selection takes from a source of `frameCount` frames (undefined: not known in advance). */
export function selectedCount(frameCount: number | undefined, s: Selection, range?: { start: number; end?: number }): number | undefined {
  if (s.loop) return s.count ?? undefined;
  if (frameCount === undefined) return undefined;
  const end = Math.min(range?.end ?? frameCount, frameCount);
  const n = Math.max(0, end - (range?.start ?? 0));
  return s.count !== null ? Math.min(n, s.count) : n;
}

export async function replayCase(spec: string, o: CaseOptions): Promise<CaseResult> {
  const stats = newStats();
  const res: CaseResult = { spec, stats, records: [], diffs: [], warnings: [], wallSeconds: 0 };
  const warn = (w: string) => {
    res.warnings.push(w);
    o.onWarning?.(w);
  };
  const t0 = performance.now();
  let recording: RecordingSource | undefined;
  try {
    const m = o.model;
    const arch = m?.loaded.model.arch;
    const golden = (res.golden = o.golden && m && arch
      ? new Golden(o.golden.file, { source: { spec, kind: parseSpec(spec).scheme }, selection: o.selection, model: { file: m.file, sha256: m.loaded.sha256 }, width: arch.width, height: arch.height }, o.golden.update)
      : undefined);
    for (const n of golden?.notes ?? []) warn(n);
    const onOpen = (src: FrameSource, pass: number) => {
      if (src instanceof RecordingSource) recording = src;
      if (!golden || pass > 0) return;
      golden.checkFrameCount(selectedCount(src.info.frameCount, o.selection, o.range));
    };
    const onDrop = (id: number, sourceIndex: number) => golden?.skip(id, sourceIndex, 'dropped: later than --drop-after under real-time pacing');
    for await (const r of replay(spec, { pace: o.pace, loop: o.selection.loop, range: o.range, count: o.selection.count ?? undefined, dropAfterMs: o.dropAfterMs, salvage: o.salvage, signal: o.signal, onOpen, onDrop, onWarning: warn }, stats)) {
      let latencyMs = 0;
      let lesionArea = 0;
      if (m && arch) {
        const start = performance.now();
        const input = preprocess({ width: r.frame.width, height: r.frame.height, data: r.frame.pixels }, arch, m.loaded.model.preprocessing);
        const out = m.engine.engine.run(input.data);
        latencyMs = performance.now() - start;
        let area = 0;
        for (let i = 0; i < out.mask.length; i++) area += out.mask[i] ? 1 : 0;
        lesionArea = area / out.mask.length;
        const d = golden?.check(r.frame.id, r.sourceIndex, r.frame.pixels, out);
        if (d) {
          const grey = arch.channels === 1 ? input.data : input.data.filter((_, i) => i % arch.channels === 0);
          const thumb = res.diffs.length < MAX_THUMBS && o.thumbs ? overlayThumb(grey, arch.width, arch.height, out.mask, golden?.expectedMask(r.frame.id, out.mask.length)) : undefined;
          res.diffs.push({ ...d, thumb });
        }
      }
      res.records.push({ id: r.frame.id, sourceIndex: r.sourceIndex, lesionArea, latencyMs, droppedSoFar: stats.dropped + stats.sourceDropped });
      o.onProgress?.(stats);
    }
    const lost = recording?.status.damaged.length ? recording.status.lostFrames : undefined;
    res.salvagedLost = lost;
    if (golden) {
      if (golden.recording) {
        if (stats.dropped > 0) throw new AunetError('GOLDEN_MISMATCH', `${stats.dropped} frame(s) dropped under real-time pacing: a golden file must hold every frame, so ${golden.file} was not written`, { hint: 'record golden files without pacing flags (every frame is processed)' });
        if (lost !== undefined) throw new AunetError('BAD_RECORDING', `a salvaged recording (${lost} frames lost) cannot make a golden file: ${golden.file} was not written`, { subject: spec });
        if (o.signal?.aborted) throw new AunetError('GOLDEN_MISMATCH', `interrupted: ${golden.file} was not written (a golden file holds the whole selection)`);
        golden.save();
      } else {
        golden.finish(lost !== undefined ? `lost: ${spec} was salvaged (${lost} damaged frames skipped)` : undefined);
        if (!golden.passed) res.failure = goldenFailure(golden, spec);
      }
    }
  } catch (e) {
    res.failure = e instanceof AunetError ? e : resourceError(e);
    if (!res.failure) throw e;
  } finally {
    res.wallSeconds = (performance.now() - t0) / 1000;
  }
  return res;
}

function goldenFailure(g: Golden, spec: string): AunetError {
  const parts: string[] = [];
  if (g.diffs.length) parts.push(`${g.diffs.length} frame(s) differ from the golden outputs`);
  if (g.missing.length) {
    const first = g.missing[0];
    parts.push(`${g.missing.length} golden frame(s) not checked (first: frame ${first.id}, source frame ${first.sourceIndex}: ${first.why})`);
  }
  return new AunetError('GOLDEN_MISMATCH', `${parts.join('; ')}; ${g.checked} of the ${g.frameCount} frames of ${g.file} checked`, { subject: spec });
}
