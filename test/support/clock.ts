import type { Clock } from "../../src/platform/clock.ts";

/** A clock that stands still until a test moves it. */
export class TestClock implements Clock {
  #now: number;

  constructor(start = Date.now()) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  advance(ms: number): void {
    this.#now += ms;
  }
}

/**
 * How a contract suite lets time pass for the store under test. An
 * in-process store reads a TestClock, which `passTime` moves, and the parts
 * in this process that keep time beside it (the rate limiter's memory of
 * refusals) are given the same `clock`. A server keeps its own time (Redis
 * expires keys and refills buckets by its clock alone), so there `passTime`
 * waits, and `clock` is absent: the in-process parts keep their real clocks.
 */
export interface TestTime {
  passTime(ms: number): Promise<void> | void;
  clock?: Clock;
}

/** Time for an in-process store: a TestClock moved on demand. */
export function movableTime(): TestTime & { clock: TestClock } {
  const clock = new TestClock();
  return { clock, passTime: (ms) => clock.advance(ms) };
}

/** Time for a server that keeps its own: waiting is the only way to let it pass. */
export const serverTime: TestTime = {
  passTime: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};
