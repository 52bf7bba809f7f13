// The live pipeline: source -> preprocessing + inference -> post-processing +
// publish, as three loops joined by one-slot newest-wins hand-offs
// (camera/queue.ts). Whatever stage is slow, the next one always takes the
// newest item and the replaced one is counted as dropped, so latency cannot
// creep. In lossless mode (replays as fast as possible) each loop waits for
// the next slot to empty instead, so every frame is processed.
import { EventEmitter } from 'node:events';
import type { Frame, FrameSource, StateChange as SourceStateChange } from '../../camera/frame.js';
import type { ModelInput } from '../../camera/preprocess.js';
import { NewestWinsQueue } from '../../camera/queue.js';
import type { AsyncEngine, Engine, InferenceResult } from '../engine/engine.js';
import { encodeFrameMessage, type ContentRect, type FrameState, type GateMaps } from '../../contracts/frame-message.js';
import { decide, type LesionDecisionRule } from '../../models/lesion-decision.js';
import { pacedFrames } from '../../camera/pacer.js';
import { wallNow } from '../../common/clock.js';
import { postprocess } from './postprocess.js';
import { StateMachine } from './state.js';
import { ThreadedSource } from './threaded-source.js';
import { PipelineStats, type FrameTimes } from './stats.js';

/** The model input for one frame and where the image lies in it. */
export interface Prepared {
  /** H*W*C bytes, what Engine.run takes */
  data: Uint8Array;
  content: ContentRect;
}

/** Makes a frame's model input on this thread, for frames that do not bring their own (`Frame.prepared`). */
export type Preprocessor = (frame: Frame) => Prepared;

/** camera/preprocess.ts's output as the pipeline carries it. */
export function fromModelInput(mi: ModelInput): Prepared {
  const p = mi.placement;
  return { data: mi.data, content: { x: p.x, y: p.y, width: p.width, height: p.height } };
}

/** Sends one encoded frame message; false = dropped (offline, backed up). */
export type FrameSink = (bytes: Uint8Array, meta: { frameId: number }) => boolean;

export interface PipelineOptions {
  /** pace recorded sources in real time (true) or run them losslessly as fast as possible */
  realtime: boolean;
  warmupFrames: number;
  /** 0..255: mask = prob > threshold */
  threshold: number;
  /** attention maps to publish, 1..4 */
  gates: number[];
  /** latency window (frames) for percentiles */
  window?: number;
  /** the model's lesion-present rule (its header's, models/lesion-decision.ts); frames decided "no lesion" get no outline */
  decision?: LesionDecisionRule;
}

interface Captured {
  frame: Frame;
}

interface Inferred {
  frame: Frame;
  grey: Uint8Array;
  content: ContentRect;
  prob: Uint8Array;
  attention: GateMaps;
  cycles: number;
  threshold: number;
  times: Omit<FrameTimes, 'postprocessed' | 'published'>;
}

export interface PipelineEvents {
  /** the source ended (finite sources) */
  ended: [];
  /** a stage failed (the pipeline stops) */
  error: [Error];
}

const nextMacrotask = () => new Promise<void>((r) => setImmediate(r));

/**
 * Late frames (real time only): a frame that has waited for the engine longer than this share of
 * the source's frame period is skipped, counted as dropped `late`, as a video sink drops a buffer
 * past its maximum lateness. When the engine overruns the period for a few frames in a row (a
 * slow spell of a shared machine), each frame waits what the one before overran and none is
 * dropped, since each starts before the next arrives: capture-to-publish stays near a period
 * plus an inference until the spell ends (docs/benchmarks.md). Skipping one such frame lets the
 * engine idle until the next arrives, which then starts fresh. Only a frame captured while the
 * engine was still busy with the one before: a frame late for another reason (a capture or main
 * thread held up, a loaded box) is not waiting for the engine, and skipping it would cost a frame
 * for nothing (a box at 10 fps reports falling-behind at two dropped frames in a second); and
 * once the engine has idled, the next frame is captured after it finished, so skips do not run
 * on. And only while the engine keeps up with the source (its recent time under a period; a
 * slower one is paced by newest-wins alone), where the next frame is likely to be on time.
 * Measured on the 2-core VM before the busy-engine rule (docs/benchmarks.md): 1-2 % of frames
 * skipped, queue p99 11-21 ms instead of 27-30.
 * (camera/pacer.ts's late-frame policy is another matter: a recorded source read behind its schedule.)
 */
export const LATE_AFTER_PERIODS = 0.5;

export class Pipeline extends EventEmitter<PipelineEvents> {
  readonly state: StateMachine;
  readonly stats: PipelineStats;
  paused = false;
  threshold: number;
  gates: Set<number>;
  #capture = new NewestWinsQueue<Captured>(1);
  #results = new NewestWinsQueue<Inferred>(1);
  #running: Promise<void> | null = null;
  #stopping = false;
  readonly #onSourceState = (c: SourceStateChange) => {
    if (c.state === 'lost') this.state.degrade('source-lost');
    else if (c.state === 'live') this.state.recover('source-lost');
  };

  constructor(
    readonly source: FrameSource,
    readonly preprocess: Preprocessor,
    readonly engine: Engine | AsyncEngine,
    readonly sink: FrameSink,
    readonly options: PipelineOptions,
  ) {
    super();
    this.state = new StateMachine();
    this.stats = new PipelineStats(options.warmupFrames, options.window ?? 1024);
    this.threshold = options.threshold;
    this.gates = new Set(options.gates);
    if (options.warmupFrames === 0) this.state.warmedUp();
  }

  /** Start the three loops; resolves when the source has ended and the last frame is out, or after stop(). */
  run(): Promise<void> {
    if (this.#running) return this.#running;
    this.source.on('state', this.#onSourceState);
    // frames a capture thread dropped because this one was busy: produced by the source, dropped
    if (this.source instanceof ThreadedSource) {
      this.source.on('drop', (n) => {
        this.stats.framesIn += n;
        this.stats.dropped.source += n;
      });
    }
    const loops = Promise.all([this.#sourceLoop(), this.#inferenceLoop(), this.#publishLoop()]);
    this.#running = loops.then(
      () => {
        this.source.off('state', this.#onSourceState);
        if (!this.#stopping) this.emit('ended');
      },
      (e: Error) => {
        this.source.off('state', this.#onSourceState);
        this.#capture.close();
        this.#results.close();
        void this.source.close();
        this.emit('error', e);
        throw e;
      },
    );
    return this.#running;
  }

  /** Stop taking frames, let the one in flight finish, close the source. */
  async stop(): Promise<void> {
    this.#stopping = true;
    await this.source.close();
    this.#capture.close();
    if (this.#running) await this.#running.catch(() => {});
    this.state.stop();
  }

  async #sourceLoop(): Promise<void> {
    const lossless = !this.options.realtime && !this.source.info.live;
    try {
      const paced = (this.source as { paced?: boolean }).paced === true;
      const frames = paced ? this.source : pacedFrames(this.source, this.options.realtime);
      for await (const frame of frames) {
        if (this.#stopping) break;
        this.stats.framesIn++;
        if (this.paused) {
          await nextMacrotask();
          continue;
        }
        if (lossless) while (this.#capture.length > 0 && !this.#capture.closed) await nextMacrotask();
        if (this.#capture.push({ frame })) this.stats.drop('source');
        // frames can come from a generator that never waits on I/O: let the other stages run
        await nextMacrotask();
      }
    } finally {
      this.#capture.close();
    }
  }

  async #inferenceLoop(): Promise<void> {
    const lossless = !this.options.realtime && !this.source.info.live;
    const fps = this.source.info.fps;
    // the source's frame period (ms), where late frames are skipped: in real time, at a known rate
    const periodMs = !lossless && fps !== undefined && fps > 0 ? 1000 / fps : null;
    // a frame's preprocessing and inference, recent frames weighted most (ms; null before the first)
    let recentMs: number | null = null;
    // when the previous frame's inference ended (wall ms)
    let lastInferred = -Infinity;
    try {
      for await (const { frame } of this.#capture) {
        if (this.paused) continue; // taken before the pause: nothing more goes out
        const inferenceStart = wallNow();
        // preprocessing done where the frame was captured counts as preprocessing, not as waiting
        const preparedMs = frame.prepared?.ms ?? 0;
        const waited = inferenceStart - frame.captureTime.wallMs - preparedMs;
        const late = periodMs !== null && waited > LATE_AFTER_PERIODS * periodMs;
        const keepsUp = periodMs !== null && recentMs !== null && recentMs < periodMs;
        if (late && keepsUp && frame.captureTime.wallMs < lastInferred) {
          this.stats.drop('late');
          continue;
        }
        const prepared = frame.prepared ? fromModelInput(frame.prepared.input) : this.preprocess(frame);
        const preprocessed = wallNow();
        // an engine in another thread takes the frame's buffer and hands it back with the result
        const r: InferenceResult & { input?: Uint8Array; engineMs?: number } = await this.engine.run(prepared.data);
        const data = r.input ?? prepared.data;
        const inferred = wallNow();
        recentMs = recentMs === null ? inferred - inferenceStart : 0.9 * recentMs + 0.1 * (inferred - inferenceStart);
        lastInferred = inferred;
        // an engine in this thread ran for all of it; one in another thread says how long it ran there
        const engineMs = r.engineMs ?? inferred - preprocessed;
        const { width: W, height: H } = this.engine.arch;
        const C = this.engine.arch.channels;
        // engine results and preprocessed frames are fresh per frame (host/engine/engine.ts): no copies needed
        const grey = C === 1 ? data : channel0(data, C);
        const attention = [0, 1, 2, 3].map((i) => (this.gates.has(i + 1) ? r.attention[i].data : null)) as GateMaps;
        if (r.prob.width !== W || r.prob.height !== H) throw new Error(`engine returned a ${r.prob.width}x${r.prob.height} map for a ${W}x${H} model`);
        const item: Inferred = {
          frame,
          grey,
          content: prepared.content,
          prob: r.prob.data,
          attention,
          cycles: r.cycles ?? 0,
          threshold: this.threshold,
          times: { capture: frame.captureTime.wallMs, preparedMs, inferenceStart, preprocessed, inferred, engineMs, cycles: r.cycles },
        };
        if (lossless) while (this.#results.length > 0 && !this.#results.closed) await nextMacrotask();
        if (this.#results.push(item)) this.stats.drop('inference');
        await nextMacrotask();
      }
    } finally {
      this.#results.close();
    }
  }

  async #publishLoop(): Promise<void> {
    const { width: W, height: H } = this.engine.arch;
    for await (const it of this.#results) {
      if (this.paused) continue;
      const lesions = postprocess(it.prob, W, H, { threshold: it.threshold });
      const rule = this.options.decision;
      const d = rule ? decide(it.prob, rule) : undefined;
      // no outline on a frame decided "no lesion": a false outline on a normal breast is the harm
      // (any reader, an older monitor too, draws what is in the contour section)
      const contours = d && !d.lesion ? [] : lesions.contours;
      if (d) this.stats.decided(d.lesion);
      const postprocessed = wallNow();
      const state = this.state.state;
      const bytes = encodeFrameMessage({
        frameId: it.frame.id,
        captureTime: it.frame.captureTime.wallMs,
        publishTime: wallNow(),
        cycles: it.cycles,
        lesionArea: lesions.area,
        meanConfidence: lesions.meanConfidence,
        width: W,
        height: H,
        threshold: it.threshold,
        state: (state === 'stopped' ? 'live' : state) as FrameState,
        content: it.content,
        frame: it.grey,
        mask: lesions.mask,
        prob: it.prob,
        attention: it.attention,
        contours,
        ...(d && rule ? { decision: { lesion: d.lesion, score: d.score, threshold: rule.threshold } } : {}),
      });
      const ok = this.sink(bytes, { frameId: it.frame.id });
      const published = wallNow();
      if (!ok) {
        this.stats.drop('publish');
        continue;
      }
      this.stats.published({ ...it.times, postprocessed, published });
      if (this.stats.completed === this.options.warmupFrames) this.state.warmedUp();
    }
  }
}

function channel0(data: Uint8Array, c: number): Uint8Array {
  const out = new Uint8Array(data.length / c);
  for (let i = 0; i < out.length; i++) out[i] = data[i * c];
  return out;
}
