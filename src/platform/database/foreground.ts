/**
 * Requests first, background work after, on a database that shares the
 * event loop.
 *
 * PGlite is one Postgres backend running inside this process: every
 * statement it runs is the event loop's time, and statements run one at a
 * time in arrival order. A background step (indexing a large text, for
 * instance: to_tsvector costs about 0.6 ms per kilobyte there) that lands
 * between a request's statements makes the request wait for all of it.
 * Background work therefore asks `quiet()` before each bounded step: it
 * resolves once no request is in flight, so a request waits for at most
 * the one step already running. Under load with no gap at all, a step still
 * goes ahead after `maxWaitMs`, so background work is slowed, never starved.
 *
 * On Postgres statements run in the server's own processes and nothing
 * queues behind a background statement in this one: `quiet()` resolves at
 * once.
 */
export class Foreground {
  #inFlight = 0;
  #waiters: (() => void)[] = [];

  constructor(
    /** Whether background work yields at all (the embedded database). */
    readonly yields: boolean,
    private readonly maxWaitMs = 250,
  ) {}

  /** Requests now in flight. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** A request began; the returned function ends it (idempotent). */
  enter(): () => void {
    this.#inFlight++;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.#inFlight--;
      if (this.#inFlight === 0) this.#wake();
    };
  }

  /** Resolves when no request is in flight, or after maxWaitMs at most. */
  quiet(): Promise<void> {
    if (!this.yields || this.#inFlight === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const waiter = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        resolve();
      }, this.maxWaitMs);
      this.#waiters.push(waiter);
    });
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}
