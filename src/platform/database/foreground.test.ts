import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setImmediate as turn } from "node:timers/promises";
import { Foreground } from "./foreground.ts";

/**
 * Whether the promise has resolved, once the callbacks already due have run
 * (a turn of the event loop): no waiting on the wall clock, so a step that
 * is held is known to be held, not merely slow.
 */
async function settled(promise: Promise<void>): Promise<boolean> {
  let done = false;
  void promise.then(() => {
    done = true;
  });
  await turn();
  return done;
}

describe("foreground requests before background steps", () => {
  it("lets a background step go at once when no request is in flight", async () => {
    assert.equal(await settled(new Foreground(true).quiet()), true);
  });

  it("holds a step while a request is in flight and releases it when the last one ends", async () => {
    const foreground = new Foreground(true, 60_000);
    const leaveA = foreground.enter();
    const leaveB = foreground.enter();
    const step = foreground.quiet();
    leaveA();
    leaveA(); // ending twice counts once
    assert.equal(foreground.inFlight, 1);
    assert.equal(await settled(step), false, "one request is still in flight");
    leaveB();
    assert.equal(await settled(step), true);
    assert.equal(foreground.inFlight, 0);
  });

  it("never starves background work: a step goes ahead after the longest wait", async (t) => {
    // The wait is a timer: node:test's mock timers move it instead of the wall clock.
    t.mock.timers.enable({ apis: ["setTimeout"] });
    const foreground = new Foreground(true, 30_000);
    foreground.enter();
    const step = foreground.quiet();
    t.mock.timers.tick(29_999);
    assert.equal(await settled(step), false, "held while the request is in flight");
    t.mock.timers.tick(1);
    assert.equal(await settled(step), true, "goes ahead at the longest wait");
  });

  it("does not hold anything back on a database with its own processes", async () => {
    const foreground = new Foreground(false);
    foreground.enter();
    assert.equal(await settled(foreground.quiet()), true);
  });
});
