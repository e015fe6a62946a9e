import type { Sleep } from "../../src/platform/sleep.ts";
import { TestClock } from "./clock.ts";

/**
 * Simulated time for code that sleeps: `sleep` registers a timer on a
 * TestClock instead of a real one, and `run` moves the clock from timer to
 * timer, letting every promise chain go as far as it can in between. Minutes
 * of traffic run in milliseconds, the same way on a slow machine as on a fast
 * one. Only code whose every wait is this `sleep` and whose I/O finishes
 * without real time passing (the in-process key-value store) belongs here.
 */
interface Timer {
  at: number;
  seq: number;
  fire: () => void;
}

export class VirtualTime {
  readonly clock: TestClock;
  readonly #timers: Timer[] = [];
  #seq = 0;

  constructor(start = Date.UTC(2030, 0, 1)) {
    this.clock = new TestClock(start);
  }

  readonly sleep: Sleep = (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const timer: Timer = { at: this.clock.now() + Math.max(0, ms), seq: this.#seq++, fire: () => {} };
      const onAbort = () => {
        this.#timers.splice(this.#timers.indexOf(timer), 1);
        reject(signal?.reason);
      };
      timer.fire = () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#timers.push(timer);
    });

  /** Fires timers in time order until none is left or the next is due after `untilMs`. */
  async run(untilMs: number): Promise<void> {
    for (;;) {
      await settle();
      if (this.#timers.length === 0) return;
      this.#timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.#timers[0] as Timer;
      if (next.at > untilMs) return;
      this.#timers.shift();
      if (next.at > this.clock.now()) this.clock.advance(next.at - this.clock.now());
      next.fire();
    }
  }

  get pending(): number {
    return this.#timers.length;
  }
}

/** Lets every promise chain waiting on already-settled work move on (the in-process store answers in microtasks). */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
