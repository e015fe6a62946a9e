import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { retryDelayMs } from "./backoff.ts";

describe("retryDelayMs", () => {
  const options = { baseMs: 1_000, maxMs: 60_000 };
  it("doubles with each attempt, between half and all of the ceiling", () => {
    assert.equal(
      retryDelayMs(1, options, () => 0),
      500,
    );
    assert.equal(
      retryDelayMs(1, options, () => 1),
      1_000,
    );
    assert.equal(
      retryDelayMs(2, options, () => 0),
      1_000,
    );
    assert.equal(
      retryDelayMs(4, options, () => 1),
      8_000,
    );
  });
  it("never exceeds the maximum, however many attempts", () => {
    assert.equal(
      retryDelayMs(30, options, () => 1),
      60_000,
    );
    assert.equal(
      retryDelayMs(1_000, options, () => 0.999),
      59_970,
    );
  });
  it("spreads retries of jobs that failed together", () => {
    const delays = new Set(Array.from({ length: 50 }, () => retryDelayMs(5, options)));
    assert.ok(delays.size > 10, `jittered delays: ${[...delays].join(", ")}`);
    for (const d of delays) assert.ok(d >= 8_000 && d <= 16_000, String(d));
  });
});
