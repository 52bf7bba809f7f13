// Pipeline statistics for the `stats` topic (docs/mqtt.md): frame counters,
// fps over each reporting interval, and latency percentiles per stage over a
// fixed window of recent frames (bounded memory over any run length), after
// skipping the first warm-up frames (JIT compilation makes them unrepresentative).

export const STAGES = ['queue', 'preprocess', 'inference', 'engine', 'postprocess', 'publish', 'endToEnd'] as const;
export type Stage = (typeof STAGES)[number];

export interface Percentiles {
  p50: number;
  p99: number;
  max: number;
  n: number;
}

/** The most recent `capacity` samples in a ring. */
export class LatencyWindow {
  readonly #buf: Float64Array;
  #n = 0;
  #next = 0;

  constructor(readonly capacity = 1024) {
    this.#buf = new Float64Array(capacity);
  }

  add(ms: number): void {
    this.#buf[this.#next] = ms;
    this.#next = (this.#next + 1) % this.capacity;
    if (this.#n < this.capacity) this.#n++;
  }

  get size(): number {
    return this.#n;
  }

  /** Nearest-rank percentiles; null when empty. */
  percentiles(): Percentiles | null {
    if (this.#n === 0) return null;
    const s = this.#buf.slice(0, this.#n).sort();
    const rank = (p: number) => s[Math.min(this.#n - 1, Math.max(0, Math.ceil((p / 100) * this.#n) - 1))];
    return { p50: round3(rank(50)), p99: round3(rank(99)), max: round3(s[this.#n - 1]), n: this.#n };
  }

  /** Nearest-rank percentiles of `samples` (benchmarks' peers, computed as the pipeline's own); null when empty. */
  static of(samples: readonly number[]): Percentiles | null {
    const w = new LatencyWindow(Math.max(1, samples.length));
    for (const x of samples) w.add(x);
    return w.percentiles();
  }

  /** Mean of the window; null when empty. */
  mean(): number | null {
    if (this.#n === 0) return null;
    let sum = 0;
    for (let i = 0; i < this.#n; i++) sum += this.#buf[i];
    return sum / this.#n;
  }
}

export interface FrameTimes {
  /** wall ms (Date.now() scale, fractional) of each step of one frame */
  capture: number;
  /** ms of preprocessing done before the frame reached the pipeline (its capture thread's), between capture and inferenceStart */
  preparedMs: number;
  inferenceStart: number;
  preprocessed: number;
  inferred: number;
  /** ms the engine itself ran (in its thread: `inferred - preprocessed` less the hand-off both ways and the wait for this thread) */
  engineMs: number;
  postprocessed: number;
  published: number;
  cycles?: number;
}

export type DropKind = 'source' | 'late' | 'inference' | 'publish';

export interface StatsSnapshot {
  ts: number;
  uptimeS: number;
  intervalS: number;
  fps: { in: number; out: number };
  frames: { in: number; out: number; dropped: Record<DropKind, number> };
  warmupFrames: number;
  latencyMs: Record<Stage, Percentiles | null>;
  chip: { cyclesPerFrame: number | null };
  /** frames decided "lesion" / "no lesion" since start (models/lesion-decision.ts), and in this interval */
  decision: { lesion: number; none: number; intervalLesion: number; intervalNone: number };
}

export class PipelineStats {
  framesIn = 0;
  framesOut = 0;
  readonly dropped: Record<DropKind, number> = { source: 0, late: 0, inference: 0, publish: 0 };
  readonly #windows: Record<Stage, LatencyWindow>;
  readonly #cycles: LatencyWindow;
  #completed = 0;
  readonly #start: number;
  #last: { t: number; in: number; out: number; dropped: number };
  readonly #decisions = { lesion: 0, none: 0 };
  #lastDecisions = { lesion: 0, none: 0 };

  constructor(readonly warmupFrames = 30, windowSize = 1024, private readonly now: () => number = Date.now) {
    this.#windows = Object.fromEntries(STAGES.map((s) => [s, new LatencyWindow(windowSize)])) as Record<Stage, LatencyWindow>;
    this.#cycles = new LatencyWindow(windowSize);
    this.#start = now();
    this.#last = { t: this.#start, in: 0, out: 0, dropped: 0 };
  }

  /** Frames published so far, warm-up included. */
  get completed(): number {
    return this.#completed;
  }

  get warm(): boolean {
    return this.#completed >= this.warmupFrames;
  }

  /** A frame made it to the broker: record its stage latencies (after the warm-up). */
  published(t: FrameTimes): void {
    this.framesOut++;
    this.#completed++;
    if (this.#completed <= this.warmupFrames) return;
    const w = this.#windows;
    w.queue.add(t.inferenceStart - t.capture - t.preparedMs);
    w.preprocess.add(t.preparedMs + t.preprocessed - t.inferenceStart);
    w.inference.add(t.inferred - t.preprocessed);
    w.engine.add(t.engineMs);
    w.postprocess.add(t.postprocessed - t.inferred);
    w.publish.add(t.published - t.postprocessed);
    w.endToEnd.add(t.published - t.capture);
    if (t.cycles !== undefined) this.#cycles.add(t.cycles);
  }

  /** The lesion-present decision of a frame about to be published. */
  decided(lesion: boolean): void {
    if (lesion) this.#decisions.lesion++;
    else this.#decisions.none++;
  }

  drop(kind: DropKind): void {
    this.dropped[kind]++;
  }

  totalDropped(): number {
    return Object.values(this.dropped).reduce((a, b) => a + b, 0);
  }

  /** Numbers since the previous snapshot (fps, new drops) and the windows. */
  snapshot(): StatsSnapshot & { droppedInInterval: number } {
    const t = this.now();
    const dt = Math.max(1e-3, (t - this.#last.t) / 1000);
    const dropped = this.totalDropped();
    const snap = {
      ts: Math.round(t),
      uptimeS: round3((t - this.#start) / 1000),
      intervalS: round3(dt),
      fps: { in: round3((this.framesIn - this.#last.in) / dt), out: round3((this.framesOut - this.#last.out) / dt) },
      frames: { in: this.framesIn, out: this.framesOut, dropped: { ...this.dropped } },
      warmupFrames: this.warmupFrames,
      latencyMs: Object.fromEntries(STAGES.map((s) => [s, this.#windows[s].percentiles()])) as Record<Stage, Percentiles | null>,
      chip: { cyclesPerFrame: this.#cycles.size ? Math.round(this.#cycles.mean() as number) : null },
      decision: {
        ...this.#decisions,
        intervalLesion: this.#decisions.lesion - this.#lastDecisions.lesion,
        intervalNone: this.#decisions.none - this.#lastDecisions.none,
      },
      droppedInInterval: dropped - this.#last.dropped,
    };
    this.#last = { t, in: this.framesIn, out: this.framesOut, dropped };
    this.#lastDecisions = { ...this.#decisions };
    return snap;
  }
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
