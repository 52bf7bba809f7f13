// The pipeline's one state, with its transitions written out (docs/mqtt.md,
// status.state). `degraded` carries the reasons that hold it there; the state
// returns to `live` when the last reason clears. `stopped` is final.
import { EventEmitter } from 'node:events';

export type PipelineState = 'warming' | 'live' | 'degraded' | 'stopped';

/** Why the pipeline is degraded; several can hold at once. */
export type DegradedReason = 'source-lost' | 'source-ended' | 'falling-behind' | 'engine-fallback';

const TRANSITIONS: Record<PipelineState, readonly PipelineState[]> = {
  warming: ['live', 'degraded', 'stopped'],
  live: ['degraded', 'stopped'],
  degraded: ['live', 'warming', 'stopped'],
  stopped: [],
};

export interface StateChange {
  state: PipelineState;
  previous: PipelineState;
  /** wall ms of the change */
  since: number;
  reasons: DegradedReason[];
}

export class StateMachine extends EventEmitter<{ change: [StateChange] }> {
  #state: PipelineState = 'warming';
  #since: number;
  #warm = false;
  readonly #reasons = new Set<DegradedReason>();

  constructor(private readonly now: () => number = Date.now) {
    super();
    this.#since = now();
  }

  get state(): PipelineState {
    return this.#state;
  }
  get since(): number {
    return this.#since;
  }
  get reasons(): DegradedReason[] {
    return [...this.#reasons];
  }

  /** The warm-up frames are through: latencies are meaningful from here. */
  warmedUp(): void {
    this.#warm = true;
    this.#update();
  }

  degrade(reason: DegradedReason): void {
    if (this.#reasons.has(reason)) return;
    this.#reasons.add(reason);
    this.#update(true);
  }

  recover(reason: DegradedReason): void {
    if (!this.#reasons.delete(reason)) return;
    this.#update(true);
  }

  stop(): void {
    this.#go('stopped');
  }

  /** `reasonsChanged`: a reason was added or cleared (not only the warm-up ended) */
  #update(reasonsChanged = false): void {
    if (this.#state === 'stopped') return;
    // a fault during warm-up is reported at once; live waits for the warm-up
    const target: PipelineState = this.#reasons.size > 0 ? 'degraded' : this.#warm ? 'live' : 'warming';
    if (target !== this.#state) this.#go(target);
    // degraded for another set of reasons: a change too, or a source that ends while the box is
    // already falling behind would never be reported (the status says why it is degraded)
    else if (target === 'degraded' && reasonsChanged) this.emit('change', { state: target, previous: target, since: this.#since, reasons: this.reasons });
  }

  #go(next: PipelineState): void {
    if (next === this.#state) return;
    if (!TRANSITIONS[this.#state].includes(next)) throw new Error(`pipeline state: no transition ${this.#state} -> ${next}`);
    const previous = this.#state;
    this.#state = next;
    this.#since = this.now();
    this.emit('change', { state: next, previous, since: this.#since, reasons: this.reasons });
  }
}
