// Which of two ways a layer runs on the threads, chosen by timing both on the machine at
// hand, as FFTW's planner or cuDNN's benchmark mode choose among algorithms that give the
// same answer. A layer whose tiles can overlap runs either with its tiles spread over the
// threads (tile-scheduler.ts: the worker computes a tile while this thread copies and
// computes another) or in stream order with each kernel call, its copies' included, divided
// over the threads (the direct executor's way). Neither wins everywhere, and where each wins
// depends on the CPU, the thread count and the tiling: on the seed at 2 threads (Ice Lake,
// per layer, the two alternated) spreading wins for convs of many tiles (dec4.conv1's 18:
// 17.2 against 22.9 ms), dividing for convs of 4 tiles (enc3.conv2 4.6 against 5.5: a thread
// idles at the layer's start and end) and for element-wise layers, whose tiles are mostly
// copies this thread would make alone (dec4.concat 3.4 against 3.7); both ways byte-identical.
// The first frames (an engine's warm-up: the pipeline's `warming`) alternate the two ways;
// after SAMPLES timed runs of each, each layer keeps the faster by its fastest run (the least
// disturbed by other work on the machine).

/** Frames run before the timing starts (the kernels' code still compiling to its optimised tier). */
const WARM_UP = 2;
/** Timed runs of each way before the choice. */
const SAMPLES = 3;

/** Runs a layer takes to choose. */
const CHOICE_RUNS = WARM_UP + 2 * SAMPLES;

export class LayerChoice {
  private runs = 0;
  private readonly best = [Infinity, Infinity];
  /** the way chosen: 0 spread, 1 in order; -1 while timing */
  private chosen = -1;

  /** `ways`: the layer spread over the threads, and in stream order with each call divided; `now`: the clock (ms) */
  constructor(private readonly ways: readonly [() => void, () => void], private readonly now: () => number = () => performance.now()) {}

  run(): void {
    if (this.chosen >= 0) return this.ways[this.chosen]();
    const way = this.runs % 2;
    const t0 = this.now();
    this.ways[way]();
    const ms = this.now() - t0;
    if (++this.runs > WARM_UP) this.best[way] = Math.min(this.best[way], ms);
    if (this.runs >= CHOICE_RUNS) this.chosen = this.best[1] < this.best[0] ? 1 : 0;
  }

  /** runs left before the choice (0 once chosen) */
  get runsLeft(): number {
    return this.chosen >= 0 ? 0 : CHOICE_RUNS - this.runs;
  }

  /** 'spread' or 'in order' once chosen; null while the first frames still time both */
  get way(): 'spread' | 'in order' | null {
    return this.chosen < 0 ? null : this.chosen === 0 ? 'spread' : 'in order';
  }
}
