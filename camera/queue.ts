// A bounded newest-wins queue between a live producer (a capture card) and a
// slower consumer (inference). When full, pushing drops the OLDEST item, so the
// consumer always works on the freshest frames and latency cannot creep as a
// backlog grows; every drop is counted so it can be reported.

export class NewestWinsQueue<T> {
  readonly #items: T[] = [];
  #waiter: ((v: IteratorResult<T>) => void) | undefined;
  #closed = false;
  #error: Error | undefined;
  #dropped = 0;
  #pushed = 0;

  /** @param capacity how many items may wait (>= 1) */
  constructor(readonly capacity = 2, private readonly onDrop?: (item: T) => void) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`queue capacity must be an integer >= 1, got ${capacity}`);
  }

  /** items dropped because the queue was full */
  get dropped(): number {
    return this.#dropped;
  }
  /** items ever pushed (delivered + waiting + dropped) */
  get pushed(): number {
    return this.#pushed;
  }
  get length(): number {
    return this.#items.length;
  }
  get closed(): boolean {
    return this.#closed;
  }

  /** Add an item; returns the item dropped to make room, if any. Ignored after close(). */
  push(item: T): T | undefined {
    if (this.#closed) return undefined;
    this.#pushed++;
    if (this.#waiter) {
      const w = this.#waiter;
      this.#waiter = undefined;
      w({ value: item, done: false });
      return undefined;
    }
    this.#items.push(item);
    if (this.#items.length > this.capacity) {
      const old = this.#items.shift() as T;
      this.#dropped++;
      this.onDrop?.(old);
      return old;
    }
    return undefined;
  }

  /** Next item, waiting if empty; done once closed and drained. One waiter at a time. */
  next(): Promise<IteratorResult<T>> {
    if (this.#items.length > 0) return Promise.resolve({ value: this.#items.shift() as T, done: false });
    if (this.#error) return Promise.reject(this.#error);
    if (this.#closed) return Promise.resolve({ value: undefined, done: true });
    if (this.#waiter) return Promise.reject(new Error('NewestWinsQueue supports one consumer at a time'));
    return new Promise((resolve, reject) => (this.#waiter = (r) => (this.#error ? reject(this.#error) : resolve(r))));
  }

  /** No more items: waiting consumers get done after the queue drains. */
  close(): void {
    this.#closed = true;
    if (this.#waiter) {
      const w = this.#waiter;
      this.#waiter = undefined;
      w({ value: undefined, done: true });
    }
  }

  /** No more items because of `error`: the consumer gets the waiting items, then the error. */
  fail(error: Error): void {
    if (this.#closed) return;
    this.#error = error;
    this.close();
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return { next: () => this.next() };
  }
}
