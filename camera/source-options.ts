// The `?key=value` options of a source spec (camera/source.ts), read with type
// checks. Its own file so the sources import it without importing the factory
// map that imports them.
import { UsageError } from '../common/errors.js';

/** How the caller wants a source opened (not part of the spec: the command decides). */
export interface OpenOptions {
  /**
   * A live source that fails or goes silent reconnects with backoff, as the live
   * service wants when a probe is unplugged; without it (every tool: probe,
   * record, replay) the first failure ends the source with an error naming the
   * cause, so that no tool waits forever on a missing or silent device.
   */
  reconnect?: boolean;
  /** A damaged recording replays the frames that can be recovered (labelled) instead of failing. */
  salvage?: boolean;
}

/** The `?key=value` options of a spec, read with type checks; unknown keys are an error. */
export class SourceOptions {
  readonly #used = new Set<string>();
  constructor(readonly spec: string, private readonly params: URLSearchParams, readonly open: OpenOptions = {}) {}

  has(key: string): boolean {
    this.#used.add(key);
    return this.params.has(key);
  }

  string(key: string): string | undefined {
    this.#used.add(key);
    return this.params.get(key) ?? undefined;
  }

  int(key: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
    const raw = this.string(key);
    if (raw === undefined) return fallback;
    const v = Number(raw);
    if (!Number.isInteger(v) || v < min || v > max) throw this.bad(key, raw, `an integer from ${min} to ${max}`);
    return v;
  }

  number(key: string, fallback: number | undefined, min: number, max: number): number | undefined {
    const raw = this.string(key);
    if (raw === undefined) return fallback;
    const v = Number(raw);
    if (!Number.isFinite(v) || v < min || v > max) throw this.bad(key, raw, `a number from ${min} to ${max}`);
    return v;
  }

  size(key: string): { width: number; height: number } | undefined {
    const raw = this.string(key);
    if (raw === undefined) return undefined;
    const m = /^(\d+)x(\d+)$/.exec(raw);
    const width = m ? Number(m[1]) : 0;
    const height = m ? Number(m[2]) : 0;
    if (!m || width < 8 || height < 8 || width > 8192 || height > 8192) throw this.bad(key, raw, 'WxH, 8 to 8192 each (e.g. 320x240)');
    return { width, height };
  }

  /** Throws if the spec carries a key no-one read (a typo, or an option of another scheme). */
  assertAllUsed(): void {
    for (const key of this.params.keys()) {
      if (!this.#used.has(key)) {
        const known = [...this.#used].join(', ') || 'none';
        throw new UsageError(`source "${this.spec}": unknown option "${key}" (options here: ${known})`);
      }
    }
  }

  private bad(key: string, raw: string, want: string): UsageError {
    return new UsageError(`source "${this.spec}": option ${key}=${raw} must be ${want}`);
  }
}
